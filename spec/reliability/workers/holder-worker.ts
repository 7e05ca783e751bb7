/**
 * Holds a SqliteStore open on a file in a process of its own, writes once when told to go, and
 * reports what its store reported (spec/reliability/sqlite-recovery.test.ts: a file deleted while
 * another process has it open).
 */
import { pathToFileURL } from 'node:url'
import { SqliteStore } from '../../../lib/stores/sqlite.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { makeEntry } from '../../helpers/entries.js'

async function main(): Promise<void> {
  const path = process.argv[2] as string
  const reports: string[] = []
  const errors: string[] = []
  const store = new SqliteStore({ path, onError: (error) => void reports.push(error.message) })
  for (let i = 0; i < 20; i++) store.set(`held${i}`, makeEntry({ key: `held${i}`, body: new Uint8Array(2000) }))
  await store.flush() // committed to the file the test is about to delete
  await workerReady()
  try {
    store.set('from-holder', makeEntry({ key: 'from-holder', url: 'https://example.com/from-holder' }))
  } catch (error) {
    errors.push((error as Error).message)
  }
  await store.close()
  workerResult({ reports, errors })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
