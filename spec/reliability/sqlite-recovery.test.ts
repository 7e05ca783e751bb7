import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { CorruptStoreError, SqliteStore, StoreError } from '../../lib/index.js'
import { startWorker } from '../helpers/children.js'
import { makeEntry } from '../helpers/entries.js'
import { tempDir } from '../helpers/origin.js'
import { Prng } from '../helpers/prng.js'
import { storedUrls } from '../helpers/store-reads.js'

/**
 * How SqliteStore repairs itself after open (lib/stores/sqlite.ts): corruption found by any
 * statement, and a file deleted or replaced under it. The request-level view is in
 * broken-store.test.ts; this pins the store's own contract.
 */

let dir: string
let cleanup: () => Promise<void>
let path: string
let reports: Error[]
const opened: SqliteStore[] = []
const openStore = () => {
  const store = new SqliteStore({ path, onError: (e) => void reports.push(e) })
  opened.push(store)
  return store
}

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir('fetch-http-cache-recovery-'))
  path = join(dir, 'cache.sqlite')
  reports = []
})
afterEach(async () => {
  for (const store of opened.splice(0)) store.close()
  await cleanup()
})

const keys = async (store: SqliteStore): Promise<string[]> => {
  const found: string[] = []
  for await (const record of store.records()) found.push(record.key)
  return found
}

const entry = (key: string, size = 600) =>
  makeEntry({ key, url: `https://example.com/${key}`, body: new Uint8Array(size).fill(1) })

/**
 * Writes 120 rows, closes (checkpoint), opens `handles` stores, then overwrites every page but the
 * first: the header still reads, the b-tree pages do not. Returns the first store (the others in `opened`).
 */
async function corruptedUnder(handles = 1): Promise<SqliteStore> {
  const writer = new SqliteStore({ path })
  for (let i = 0; i < 120; i++) writer.set(`k${i}`, entry(`k${i}`))
  writer.close()
  const store = openStore()
  for (let i = 1; i < handles; i++) openStore()
  assert.ok(store.get('k0'))
  const size = (await stat(path)).size
  const handle = await open(path, 'r+')
  await handle.write(new Prng(21).bytes(size - 4096), 0, size - 4096, 4096)
  await handle.close()
  return store
}

describe('corruption found after open', () => {
  it('a read: moved aside, reported once, answered as a miss, and the store works on a fresh file', async () => {
    const store = await corruptedUnder()
    for (let i = 1; i < 120; i++) store.get(`k${i}`)
    const corrupt = reports.filter((e) => e instanceof CorruptStoreError)
    assert.equal(corrupt.length, 1)
    assert.ok(existsSync(corrupt[0]?.movedTo ?? ''))
    store.set('after', entry('after'))
    assert.ok(store.get('after'))
  })

  it('a write: the file is replaced and the write lands in the fresh one', async () => {
    const store = await corruptedUnder()
    for (let i = 0; i < 40 && reports.length === 0; i++) {
      store.set(`new${i}`, entry(`new${i}`, 5000))
      await store.flush()
    }
    assert.equal(reports.filter((e) => e instanceof CorruptStoreError).length, 1)
    const last = await keys(store)
    assert.ok(last.length >= 1, 'the write that met the corruption was retried on the fresh file')
    const reader = new SqliteStore({ path })
    opened.push(reader)
    assert.deepEqual(await keys(reader), last)
  })

  it('two handles: the first to notice moves the file aside; the other follows on its next write', async () => {
    const a = await corruptedUnder(2)
    const b = opened[1] as SqliteStore
    for (let i = 1; i < 120 && reports.length === 0; i++) a.get(`k${i}`)
    assert.equal(reports.length, 1)
    b.set('from-b', entry('from-b'))
    await b.flush() // the commit finds the file replaced
    assert.equal(reports.length, 2)
    assert.match(reports[1]?.message ?? '', /replaced while in use/)
    assert.ok(a.get('from-b'), 'both handles are on the same fresh file')
    assert.equal(a.secret, b.secret)
  })
})

describe('a file deleted under the store', () => {
  it('is re-created by the next write with the same secret, so keys stay valid', async () => {
    const store = openStore()
    store.set('a', entry('a'))
    await store.flush() // 'a' is in the file about to go
    const secret = store.secret
    for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true })
    store.set('b', entry('b'))
    await store.flush() // the commit finds the file gone
    assert.equal(reports.length, 1)
    assert.ok(reports[0] instanceof StoreError)
    assert.equal(store.secret, secret)
    const other = new SqliteStore({ path })
    opened.push(other)
    assert.equal(other.secret, secret)
    assert.deepEqual(await storedUrls(other), ['https://example.com/b'])
  })

  for (const [what, suffixes] of [
    ['alone', ['']],
    ['with its -wal and -shm', ['', '-wal', '-shm']],
  ] as const) {
    it(`${what}, while another process still has it open: the new file never reads the old -wal and -shm, and both processes end up on it`, async (t) => {
      const store = openStore()
      store.set('before', entry('before'))
      await store.flush()
      const holder = startWorker(join(import.meta.dirname, 'workers', 'holder-worker.ts'), [path])
      t.after(() => holder.kill()) // if an assertion fails before it is told to go
      await holder.ready
      for (const suffix of suffixes) await rm(path + suffix, { force: true })
      for (let i = 0; i < 5; i++) store.set(`after${i}`, entry(`after${i}`, 3000))
      await store.flush() // the commit finds the file gone
      assert.deepEqual(
        reports.map((e) => e.message.replace(path, '<path>')),
        [
          'fetch-http-cache: cache file <path> was deleted while in use; reopened it (entries written since then went to the old file)',
        ],
      )
      holder.go()
      const result = (await holder.result) as { reports: string[]; errors: string[] }
      assert.deepEqual(result.errors, [])
      assert.equal(result.reports.length, 1)
      assert.match(result.reports[0] ?? '', /replaced while in use/)
      const reader = new SqliteStore({ path })
      opened.push(reader)
      assert.deepEqual(await storedUrls(reader), [
        'https://example.com/after0',
        'https://example.com/after1',
        'https://example.com/after2',
        'https://example.com/after3',
        'https://example.com/after4',
        'https://example.com/from-holder',
      ])
      assert.equal(reader.secret, store.secret)
    })
  }

  it('is not re-created once the store is closed', async () => {
    const store = openStore()
    store.set('a', entry('a'))
    store.close()
    await rm(path, { force: true })
    assert.throws(() => store.set('b', entry('b')), StoreError)
    assert.equal(existsSync(path), false)
    assert.deepEqual(reports, [])
  })

  it('a throwing onError does not stop the repair', async () => {
    const store = new SqliteStore({
      path,
      onError: () => {
        throw new Error('onError fails')
      },
    })
    opened.push(store)
    store.set('a', entry('a'))
    await rm(path, { force: true })
    store.set('b', entry('b'))
    await store.flush()
    assert.ok(existsSync(path))
    assert.ok(store.get('b'))
  })
})
