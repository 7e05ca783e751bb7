#!/usr/bin/env node
// The `fetch-cache` command: inspect and maintain a SQLite cache file from the shell (`fetch-cache --help`).

import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
})
