// Launcher for fauxqs 2.4.1 (SQS/SNS/S3 emulator) used by the Go package testenv/emu.
// Needs Node >= 22.5 (fauxqs imports node:sqlite): run it with
// testenv/node_modules/node/bin/node.
//
// Usage: node launcher.mjs [--port N] [--port-file FILE] [--data-dir DIR] [--exit-on-stdin-eof]
//
//   --port       TCP port on 127.0.0.1 (0 = pick a free one; default 0)
//   --port-file  once listening, the actual port is written (atomically) here
//   --data-dir   unused by default (state is in memory); reserved for persistence
//   --exit-on-stdin-eof
//                exit when stdin reaches EOF (the Go side keeps a pipe open)
//
// fauxqs' own startFauxqs()/CLI always listens on 0.0.0.0 (FAUXQS_HOST only changes
// the host used in queue URLs), so this launcher builds the Fastify app with
// buildApp() and listens on 127.0.0.1 itself. It also clears SqsStore.host
// (default "localhost", which yields URLs like http://sqs.us-east-1.localhost:PORT/...)
// so queue URLs use the request's Host header: http://127.0.0.1:PORT/000000000000/NAME.
import { buildApp } from "fauxqs";
import launcherLib from "../launcher-lib.cjs";

const { parseArgs, writePortFile, onStop } = launcherLib;

// SqsStore is not in fauxqs' package "exports"; import it by file URL instead.
const { SqsStore } = await import(
  new URL("./sqs/sqsStore.js", import.meta.resolve("fauxqs")).href
);

const args = parseArgs(process.argv.slice(2), {}, { "--data-dir": () => {} });
const HOST = "127.0.0.1";

const sqsStore = new SqsStore();
sqsStore.host = "";

const app = buildApp({
  logger: { level: process.env.DEBUG ? "debug" : "info" },
  stores: { sqsStore },
  defaultRegion: process.env.FAUXQS_DEFAULT_REGION || "us-east-1",
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(code), 2000).unref();
  try {
    await app.close();
  } finally {
    process.exit(code);
  }
}

onStop(args, shutdown);

try {
  const address = await app.listen({ port: args.port, host: HOST });
  const port = new URL(address).port;
  app.log.info(`fauxqs running on http://${HOST}:${port}`);
  writePortFile(args.portFile, port);
} catch (err) {
  console.error(err);
  process.exit(1);
}
