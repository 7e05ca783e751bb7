/**
 * Another process on the cache file (`lock-delay.ts`): takes the SQLite write lock, keeps it for
 * `burstMs`, lets go for `pauseMs`, and again, for `totalMs` in all. Says `locked` on stdout when it
 * first holds the lock, and `done <bursts> <ms held>` at the end. `node:sqlite`, so it needs no
 * native module built for this Node.
 *
 *   node --import tsx bench/lock-holder.ts <file> <burstMs> <pauseMs> <totalMs>
 */
import { DatabaseSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'

const [path, burstMs, pauseMs, totalMs] = [process.argv[2] as string, ...process.argv.slice(3, 6).map(Number)] as [
  string,
  number,
  number,
  number,
]
const db = new DatabaseSync(path)
db.exec('PRAGMA busy_timeout = 10000')
const started = performance.now()
let bursts = 0
let held = 0
while (performance.now() - started < totalMs) {
  db.exec('BEGIN IMMEDIATE')
  const from = performance.now()
  if (bursts === 0) process.stdout.write('locked\n')
  bursts++
  await sleep(Math.min(burstMs, Math.max(0, totalMs - (from - started))))
  db.exec('COMMIT')
  held += performance.now() - from
  await sleep(pauseMs)
}
db.close()
process.stdout.write(`done ${bursts} ${Math.round(held)}\n`)
