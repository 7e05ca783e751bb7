/**
 * Stores entries and ends at once with `process.exit()`, in the same turn of the event loop: what
 * the store had pending must still be in the file (spec/stores/sqlite-write-behind.test.ts).
 */
import { pathToFileURL } from 'node:url'
import { SqliteStore } from '../../../lib/stores/sqlite.js'
import { makeEntry } from '../../helpers/entries.js'

function main(): void {
  const [path, count] = [process.argv[2] as string, Number(process.argv[3])]
  const store = new SqliteStore({ path })
  for (let i = 0; i < count; i++) store.set(`exit-${i}`, makeEntry({ key: `exit-${i}`, url: `https://example.com/exit/${i}` }))
  process.exit(0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
