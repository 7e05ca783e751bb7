/**
 * Holds the write lock of a SQLite file in a process of its own (spec/stores/sqlite-write-behind.test.ts):
 * takes it, says ready, and on go keeps it for `holdMs` more before committing.
 */
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { workerReady, workerResult } from '../../helpers/children.js'

async function main(): Promise<void> {
  const [path, holdMs] = [process.argv[2] as string, Number(process.argv[3])]
  const db = new Database(path)
  db.pragma('busy_timeout = 5000')
  db.exec('BEGIN IMMEDIATE')
  await workerReady()
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, holdMs))
  db.exec('COMMIT')
  db.close()
  workerResult({ heldMs: performance.now() - started })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
