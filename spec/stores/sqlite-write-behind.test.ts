import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import type { SqliteStoreOptions } from '../../lib/stores/sqlite-options.js'
import { ROOT, startWorker, type Worker } from '../helpers/children.js'
import { makeEntry, T0 } from '../helpers/entries.js'
import { tempDir } from '../helpers/origin.js'
import { assertSameEntry } from './contract.js'

/**
 * Writes leave the request path (lib/stores/sqlite.ts): a process never blocks on another's write
 * lock, reads its own pending writes, and commits them later, on close, or at exit.
 */

const HOLDER = join(import.meta.dirname, 'workers', 'lock-holder.ts')
const EXIT_WRITER = join(import.meta.dirname, 'workers', 'exit-writer.ts')

let path: string
let cleanup: () => Promise<void>
let opened: SqliteStore[]
let reports: Error[]

const open = (options: Partial<SqliteStoreOptions> = {}): SqliteStore => {
  const store = new SqliteStore({ path, onError: (error) => void reports.push(error), ...options })
  opened.push(store)
  return store
}

/** The keys committed to the file, read through a connection of its own. */
const committedKeys = (): string[] => {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare<[], string>('SELECT key FROM entries ORDER BY key').pluck().all()
  } finally {
    db.close()
  }
}

/** Another process takes the file's write lock; resolves once it holds it, and keeps it `ms` after `go()`. */
async function lockedByAnotherProcess(ms: number): Promise<Worker> {
  const holder = startWorker(HOLDER, [path, String(ms)])
  await holder.ready
  return holder
}

beforeEach(async () => {
  const dir = await tempDir('fetch-http-cache-write-behind-')
  cleanup = dir.cleanup
  path = join(dir.dir, 'cache.sqlite')
  opened = []
  reports = []
})
afterEach(async () => {
  for (const store of opened) await store.close()
  await cleanup()
})

describe('while another process holds the write lock', () => {
  it('storing misses and recording uses never waits for the lock; the writes land once it is released', async (t) => {
    let now = T0
    const store = open({ now: () => now })
    store.set('hit', makeEntry({ key: 'hit' }))
    await store.flush()
    // The other process holds the lock from now until go(): everything below runs while it is held.
    const holder = await lockedByAnotherProcess(0)
    t.after(() => holder.kill())

    now += 120_000 // every hit below records a use
    for (let i = 0; i < 50; i++) {
      store.set(`miss-${i}`, makeEntry({ key: `miss-${i}`, body: new Uint8Array(1024).fill(i) }))
      assert.ok(store.get('hit'))
      await nextTurn() // the loop turns: nothing above waited for the lock
    }
    let flushed = false
    const flushing = store.flush().then(() => {
      flushed = true
    }) // commit now: it meets the lock
    for (let i = 0; i < 50; i++) {
      assert.ok(store.get('miss-49'))
      await nextTurn() // and the loop still turns while the commit waits
    }
    assert.equal(flushed, false, 'the commit waits for the lock, off the event loop')
    assert.deepEqual(committedKeys(), ['hit'], 'nothing committed while the lock is held')
    assert.ok(store.get('miss-0'), 'the pending write is read back meanwhile')
    holder.go()
    await holder.result
    await flushing
    await store.flush()
    const keys = committedKeys()
    assert.equal(keys.length, 51, `committed: ${keys.length} keys`)
    assert.deepEqual(reports, [])
  })

  it('close() waits for the lock without blocking, then commits and closes', async (t) => {
    const store = open()
    const holder = await lockedByAnotherProcess(300)
    t.after(() => holder.kill())
    store.set('k', makeEntry({ key: 'k' }))
    holder.go()
    const closing = store.close()
    assert.ok(closing instanceof Promise, 'close() has to wait: it says so with a promise')
    assert.throws(() => store.get('k'), /closed/, 'a closing store takes no more calls')
    await closing
    await holder.result
    assert.deepEqual(committedKeys(), ['k'])
    assert.deepEqual(reports, [])
  })
})

describe('read-your-writes', () => {
  it('a get sees a pending set, delete and clear before they are committed', async () => {
    const store = open()
    const other = open()
    const entry = makeEntry({ key: 'a', body: new TextEncoder().encode('pending') })
    store.set('a', entry)
    assertSameEntry(store.get('a'), entry)
    assert.equal(other.get('a'), undefined, 'another handle sees only what is committed')
    await store.flush()
    assertSameEntry(other.get('a'), entry)

    store.delete(['a'])
    assert.equal(store.get('a'), undefined)
    assert.ok(other.get('a'), 'the delete is not committed yet')
    await store.flush()
    assert.equal(other.get('a'), undefined)

    store.set('b', makeEntry({ key: 'b' }))
    store.set('c', makeEntry({ key: 'c' }))
    await store.flush()
    const clearing = store.clear()
    store.set('c', makeEntry({ key: 'c', status: 203 }))
    assert.equal(store.get('b'), undefined, 'a pending clear hides what was committed before it')
    assert.equal(store.get('c')?.status, 203, 'a write after the clear survives it')
    await clearing
    assert.deepEqual(committedKeys(), ['c'])
  })
})

describe('batches', () => {
  it('a backlog commits in bounded transactions, a turn of the event loop between them', async () => {
    const store = open()
    for (let i = 0; i < 1000; i++) store.set(`k${String(i).padStart(4, '0')}`, makeEntry({ key: `k${i}` }))
    const flushed = store.flush() // commit now rather than after the commit delay
    await nextTurn() // the store's first commit ran, and no other
    const first = committedKeys().length
    assert.ok(first > 0 && first < 1000, `${first} of 1000 committed in the first turn`)
    await flushed
    assert.equal(committedKeys().length, 1000)
  })

  it('writes accepted faster than they commit, with no lock in the way, are committed at once rather than dropped', async () => {
    const store = open()
    const MiB = new Uint8Array(1024 * 1024)
    // 80 MiB in one turn of the loop: past what may wait uncommitted (64 MiB), and no commit has run yet.
    const writes = Array.from({ length: 80 }, (_, i) => store.set(`big${i}`, makeEntry({ key: `big${i}`, body: MiB })))
    assert.deepEqual(await Promise.all(writes), Array(80).fill(true), 'every write kept')
    assert.deepEqual(reports, [], 'nothing dropped, nothing reported')
    assert.equal(committedKeys().length, 80)
  })

  it('a sweep between writes lands in order even when the writes span several batches', async () => {
    const store = open()
    for (let i = 0; i < 300; i++) store.set(`a${i}`, makeEntry({ key: `a${i}` }))
    const cleared = store.clear()
    for (let i = 0; i < 300; i++) store.set(`b${i}`, makeEntry({ key: `b${i}` }))
    const flushed = store.flush()
    await nextTurn()
    assert.equal(store.get('a0'), undefined, 'still cleared, read back mid-way')
    assert.ok(store.get('b299'))
    await cleared
    await flushed
    const keys = committedKeys()
    assert.equal(keys.length, 300)
    assert.ok(keys.every((key) => key.startsWith('b')))
  })
})

describe('ending', () => {
  it('close() commits what is pending, at once when nothing holds the lock', () => {
    const store = open()
    store.set('k', makeEntry({ key: 'k' }))
    assert.equal(store.close(), undefined)
    assert.deepEqual(committedKeys(), ['k'])
  })

  it('process.exit() in the same turn as the writes keeps them (the exit hook commits)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', EXIT_WRITER, path, '20'], { cwd: ROOT, stdio: 'ignore' })
    const [code] = await once(child, 'close')
    assert.equal(code, 0)
    assert.equal(committedKeys().length, 20)
  })
})

describe('refresh()', () => {
  it('rewrites only the metadata row: refreshing a 1 MiB entry writes a few pages, not the body', async () => {
    const store = open()
    const entry = makeEntry({ key: 'big', body: new Uint8Array(1024 * 1024).fill(7), createdAt: T0 })
    store.set('big', entry)
    await store.flush()
    const db = new Database(path)
    try {
      db.pragma('wal_checkpoint(TRUNCATE)')
      const { body: _body, ...meta } = entry
      store.refresh('big', { ...meta, headers: [['etag', '"2"']], createdAt: T0 + 1000, expires: T0 + 5000 }, T0)
      await store.flush()
      const walBytes = statSync(`${path}-wal`).size
      // A few pages (16 KiB each: the row, its indexes, the size total), far from the 1 MiB body.
      const pageSize = db.pragma('page_size', { simple: true }) as number
      assert.ok(walBytes < 8 * (pageSize + 24), `the refresh wrote ${walBytes} bytes to the WAL (pages of ${pageSize} B)`)
      const got = store.get('big')
      assert.equal(got?.createdAt, T0 + 1000)
      assert.equal(got?.body.byteLength, 1024 * 1024)
    } finally {
      db.close()
    }
  })

  it('merges into a pending set of the response it refreshes, and is read back before the commit', async () => {
    const store = open()
    const entry = makeEntry({ key: 'k', body: new TextEncoder().encode('body'), createdAt: T0, expires: T0 + 10 })
    store.set('k', entry)
    const { body: _body, ...meta } = entry
    store.refresh('k', { ...meta, createdAt: T0 + 50, expires: T0 + 99 }, T0)
    assertSameEntry(store.get('k'), { ...entry, createdAt: T0 + 50, expires: T0 + 99 })
    await store.flush()
    const other = open()
    assertSameEntry(other.get('k'), { ...entry, createdAt: T0 + 50, expires: T0 + 99 })
  })
})
