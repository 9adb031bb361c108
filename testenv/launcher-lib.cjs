// Shared by the emulator launchers that testenv/emu starts (cognito-local,
// fauxqs, dynalite): the common flags, the port file, and when to stop.
"use strict";

const fs = require("node:fs");

// parseArgs reads the common flags
//   --port N             TCP port on 127.0.0.1 (0 = pick a free one; default 0)
//   --port-file FILE     once listening, the actual port is written (atomically) here
//   --exit-on-stdin-eof  exit when stdin reaches EOF (the Go side keeps a pipe
//                        open, so the emulator dies with its parent even on SIGKILL)
// and the launcher's own ones: own maps a flag to (value, out) => void; each
// takes a value. defaults seeds the result.
function parseArgs(argv, defaults = {}, own = {}) {
  const out = { port: 0, portFile: "", stdinEOF: false, ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === "--port") out.port = Number.parseInt(next(), 10);
    else if (a === "--port-file") out.portFile = next();
    else if (a === "--exit-on-stdin-eof") out.stdinEOF = true;
    else if (Object.hasOwn(own, a)) own[a](next(), out);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    throw new Error(`invalid --port ${out.port}`);
  }
  return out;
}

// writePortFile writes port to path atomically (testenv/emu polls for it).
function writePortFile(path, port) {
  if (!path) return;
  const tmp = `${path}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, path);
}

// onStop calls shutdown(0) on SIGINT, SIGTERM and, with --exit-on-stdin-eof,
// when stdin ends.
function onStop(args, shutdown) {
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  if (args.stdinEOF) {
    process.stdin.on("end", () => shutdown(0));
    process.stdin.on("error", () => shutdown(0));
    process.stdin.resume();
  }
}

module.exports = { parseArgs, writePortFile, onStop };
