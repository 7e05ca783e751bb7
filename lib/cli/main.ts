#!/usr/bin/env node
// The `fetch-http-cache` command: inspect and maintain a cache (a SQLite file or a Redis prefix) from the shell (`fetch-http-cache --help`).

// First: an older Node.js gets a clear error before better-sqlite3 loads.
import '../install/node-version.js'
import { askOnTerminal } from './confirm.js'
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  // Only a person at a terminal can answer; a pipe or a script gets a refusal that names --yes.
  ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askOnTerminal } : {}),
})
