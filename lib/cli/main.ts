#!/usr/bin/env node
// The `fetch-http-cache` command: inspect and maintain a cache (a SQLite file or a Redis prefix) from the shell (`fetch-http-cache --help`).

// First: an older Node.js gets a clear error before better-sqlite3 loads.
import '../install/node-version.js'
import { askOnTerminal } from './confirm.js'
import { runCli } from './run.js'

// A reader that stops early (`fetch-http-cache urls | head -1`) closes the pipe: the rest of the
// output has nowhere to go, which is no failure of the command (Unix tools end quietly on SIGPIPE;
// Node ignores that signal and reports EPIPE as an 'error' event, unhandled a crash with a stack).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return
    throw error
  })
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  // Only a person at a terminal can answer; a pipe or a script gets a refusal that names --yes.
  ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askOnTerminal } : {}),
})
