#!/usr/bin/env node
// Launcher for dynalite 4.0.0 (DynamoDB emulator) used by the Go package testenv/emu.
// Runs on Node >= 20; testenv/emu starts it with testenv/node_modules/node/bin/node
// (Node 22) like the other emulators.
//
// Usage: node launcher.cjs [--port N] [--port-file FILE] [--create-table-ms MS] [--exit-on-stdin-eof]
//
//   --port       TCP port on 127.0.0.1 (0 = pick a free one; default 0)
//   --port-file  once listening, the actual port is written (atomically) here
//   --create-table-ms
//                how long a new table stays CREATING before it is ACTIVE
//                (dynalite's default is 500; real DynamoDB takes seconds)
//   --exit-on-stdin-eof
//                exit when stdin reaches EOF (the Go side keeps a pipe open, so
//                the emulator dies with its parent even on SIGKILL)
//
// State is in memory only (dynalite's default without --path): every start is
// empty. dynalite's own CLI listens on all interfaces unless --host is given and
// has no port file, hence this launcher. Any GET answers 200 "healthy: ...", which
// is what testenv/emu polls (/health).
//
// npm may skip classic-level's install script (LevelDB on disk); the in-memory
// store (memory-level) does not need it, and classic-level loads its shipped
// prebuilt binding anyway.
"use strict";

const dynalite = require("dynalite");
const { parseArgs, writePortFile, onStop } = require("../launcher-lib.cjs");

const args = parseArgs(process.argv.slice(2), { createTableMs: 500 }, {
  "--create-table-ms": (v, out) => {
    out.createTableMs = Number.parseInt(v, 10);
    if (!Number.isInteger(out.createTableMs) || out.createTableMs < 0) {
      throw new Error(`invalid --create-table-ms ${v}`);
    }
  },
});
const HOST = "127.0.0.1";

const server = dynalite({
  createTableMs: args.createTableMs,
  deleteTableMs: args.createTableMs,
  updateTableMs: args.createTableMs,
  verbose: Boolean(process.env.DEBUG),
  debug: Boolean(process.env.DEBUG),
});

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  // Nothing to keep: the store is in memory. Don't wait for dynalite's 30 s
  // graceful close.
  process.exit(code);
}

onStop(args, shutdown);

server.on("error", (err) => {
  console.error(err);
  process.exit(1);
});

// dynalite throws from a request's 'error' event (index.js: req.on('error', function
// (err) { throw err })), so a client that goes away mid-request — a process killed with
// SIGKILL, a connection cut — would take the whole emulator down with it. Real DynamoDB
// shrugs that off; so does this launcher. Anything else still ends the process.
process.on("uncaughtException", (err) => {
  if (err && (err.code === "ECONNRESET" || err.message === "aborted")) {
    console.error(`dynalite: a client went away mid-request (${err.message}); serving on`);
    return;
  }
  console.error(err);
  process.exit(1);
});

server.listen(args.port, HOST, () => {
  const { port } = server.address();
  console.log(`dynalite listening on http://${HOST}:${port} (in memory, createTableMs ${args.createTableMs})`);
  writePortFile(args.portFile, port);
});
