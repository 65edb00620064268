#!/usr/bin/env node
// The `eventsourced` command (see README.md): `npx @eventsourced/cli --help`.
import { runCli } from "./run-cli.js";

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a driver still hold a handle, do not hang the terminal.
  setTimeout(() => process.exit(code), 2_000).unref();
});
