import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { on } from 'node:events'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { CorruptStoreError, InvalidOptionTypeError, InvalidOptionValueError, StoreError } from '../../lib/errors.js'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { APPLICATION_ID } from '../../lib/stores/sqlite-mark.js'
import type { SqliteStoreOptions } from '../../lib/stores/sqlite-options.js'
import { SCHEMA_VERSION } from '../../lib/stores/sqlite-schema.js'
import { makeEntry, T0 } from '../helpers/entries.js'
import { collect, storedCount, storedKeys } from '../helpers/store-reads.js'
import { assertSameEntry, storeContract } from './contract.js'

storeContract('SqliteStore on a file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-sqlite-'))
  const store = new SqliteStore({ path: join(dir, 'http_cache.sqlite') })
  return {
    store,
    async cleanup() {
      store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

/**
 * Counts the statements better-sqlite3 runs to read one row (`get`), pragmas aside, until `stop()`:
 * what the store reads from the file, seen from outside it.
 */
function countRowReads(): { statements: string[]; stop(): void } {
  const db = new Database(':memory:')
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as { get: (...args: unknown[]) => unknown }
  db.close()
  const original = proto.get
  const statements: string[] = []
  proto.get = function (this: { source: string }, ...args: unknown[]) {
    if (!/^\s*PRAGMA/i.test(this.source)) statements.push(this.source)
    return original.apply(this, args)
  }
  return {
    statements,
    stop: () => {
      proto.get = original
    },
  }
}

describe('SqliteStore', () => {
  let dir: string
  let path: string
  let opened: SqliteStore[]

  /** A store on `path` (by default), closed after the test. */
  const open = (options: Partial<SqliteStoreOptions> = {}): SqliteStore => {
    const store = new SqliteStore({ path, ...options })
    opened.push(store)
    return store
  }

  /** A plain connection to the file, to look under the store or tamper with it. */
  const raw = (): Database.Database => {
    const db = new Database(path)
    db.pragma('busy_timeout = 5000')
    return db
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-sqlite-'))
    path = join(dir, 'http_cache.sqlite')
    opened = []
  })
  afterEach(async () => {
    for (const store of opened) store.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('the file', () => {
    it('creates missing parent directories', async () => {
      path = join(dir, 'a', 'b', 'cache.sqlite')
      const store = open()
      store.set('k', makeEntry())
      await store.flush()
      assert.ok((await stat(path)).isFile())
    })

    it('is created with mode 0600, and so are its -wal and -shm files', { skip: process.platform === 'win32' }, async () => {
      const store = open()
      store.set('k', makeEntry())
      await store.flush()
      assert.equal((await stat(path)).mode & 0o777, 0o600)
      // In WAL mode both exist while a connection has the file open, once something was written.
      for (const suffix of ['-wal', '-shm']) assert.equal((await stat(path + suffix)).mode & 0o777, 0o600, suffix)
    })

    it('is tightened to 0600 when it already exists', { skip: process.platform === 'win32' }, async () => {
      await writeFile(path, '', { mode: 0o644 })
      open()
      assert.equal((await stat(path)).mode & 0o777, 0o600)
    })

    it('is in WAL mode and records the schema version in user_version', () => {
      open().close()
      const db = raw()
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
        assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
      } finally {
        db.close()
      }
    })

    it('keeps entries and the secret across close and reopen (close commits what is pending)', () => {
      const first = open()
      const entry = makeEntry({ key: 'k' })
      first.set('k', entry)
      const secret = first.secret
      assert.equal(first.close(), undefined, 'nothing to wait for: no other connection holds the lock')
      const second = open()
      assert.equal(second.secret, secret)
      assertSameEntry(second.get('k'), entry)
    })

    it('is reset when it is ours (our application_id) but of an unknown schema version, since its rows are only a cache', async () => {
      const db = raw()
      db.exec(
        "CREATE TABLE entries (k TEXT); CREATE TABLE meta (name TEXT PRIMARY KEY, value); INSERT INTO meta VALUES ('secret', 'x')",
      )
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma('user_version = 7')
      db.close()
      const store = open()
      assert.match(store.secret, /^[0-9a-f]{64}$/)
      assert.equal(await storedCount(store), 0)
      store.set('k', makeEntry({ key: 'k' }))
      assert.ok(store.get('k'))
      await store.flush()
      const check = raw()
      assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION)
      check.close()
    })

    it('works in memory', () => {
      path = ':memory:'
      const store = open()
      const entry = makeEntry({ key: 'k' })
      store.set('k', entry)
      assertSameEntry(store.get('k'), entry)
    })
  })

  describe('two handles on one file', () => {
    it('opening a new file waits while another connection holds its write lock, instead of failing at once', async () => {
      await writeFile(path, '') // a new file, as another process opening it at once has just created it
      // A writer in another thread, as another process creating the schema: SQLite refuses the switch
      // to WAL at once while a connection holds the write lock (SQLITE_BUSY, without its busy handler).
      // This one lets go after 200 ms.
      const writer = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads')
        const db = new (require(workerData.sqlite))(workerData.path)
        db.exec('BEGIN IMMEDIATE')
        parentPort.postMessage('writing')
        setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('done') }, 200)`,
        { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), path } },
      )
      const messages = on(writer, 'message')
      assert.equal((await messages.next()).value?.[0], 'writing')
      const store = open() // without waiting: StoreError, "database is locked"
      assert.equal((await messages.next()).value?.[0], 'done')
      await writer.terminate()
      store.set('k', makeEntry({ key: 'k' }))
      await store.flush()
      const db = raw()
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      db.close()
    })

    it("see each other's writes and deletes once committed, and share one secret", async () => {
      const a = open()
      const b = open()
      assert.equal(a.secret, b.secret)
      const entry = makeEntry({ key: 'k' })
      a.set('k', entry)
      await a.flush()
      assertSameEntry(b.get('k'), entry)
      b.delete(['k'])
      await b.flush()
      assert.equal(a.get('k'), undefined)
    })

    it('never serve a decoded copy after the other one commits a change to that key', async () => {
      const a = open()
      const b = open()
      a.set('k', makeEntry({ key: 'k', status: 200 }))
      await a.flush()
      for (let i = 0; i < 3; i++) assert.equal(a.get('k')?.status, 200) // read, and kept decoded
      b.set('k', makeEntry({ key: 'k', status: 203 }))
      await b.flush()
      assert.equal(a.get('k')?.status, 203)
      b.delete(['k'])
      await b.flush()
      assert.equal(a.get('k'), undefined)
    })

    it('agree on size() and on the rows stored', async () => {
      const a = open()
      const b = open()
      a.set('x', makeEntry({ key: 'x' }))
      b.set('y', makeEntry({ key: 'y', body: new Uint8Array(500) }))
      await Promise.all([a.flush(), b.flush()])
      assert.equal(await a.size(), await b.size())
      assert.equal(await storedCount(a), 2)
      assert.equal(await storedCount(b), 2)
    })
  })

  describe('inspection helpers', () => {
    it('keep size() equal to the sum of the rows through inserts, replaces, deletes and clear', async () => {
      const store = open()
      const sumOfRows = () => {
        const db = raw()
        try {
          return db.prepare('SELECT COALESCE(SUM(size), 0) FROM entries').pluck().get()
        } finally {
          db.close()
        }
      }
      store.set('a', makeEntry({ key: 'a', body: new Uint8Array(100) }))
      store.set('b', makeEntry({ key: 'b', body: new Uint8Array(200) }))
      const afterTwo = await store.size()
      assert.ok(afterTwo > 300)
      assert.equal(afterTwo, sumOfRows())
      store.set('a', makeEntry({ key: 'a', body: new Uint8Array(1000) }))
      assert.equal(await store.size(), afterTwo + 900)
      assert.equal(await store.size(), sumOfRows())
      store.delete(['b'])
      assert.equal(await store.size(), sumOfRows())
      await store.clear()
      assert.equal(await store.size(), 0)
    })
  })

  describe('maxSize', () => {
    /** The stored size of one entry like those the tests write. */
    const sizeOf = async (overrides: Parameters<typeof makeEntry>[0]): Promise<number> => {
      const probe = new SqliteStore({ path: ':memory:' })
      probe.set('k', makeEntry(overrides))
      const size = await probe.size()
      probe.close()
      return size
    }
    const body = new Uint8Array(1000)

    it('keeps the total under the bound, evicting the least-recently-used entries first', async () => {
      let now = T0
      const one = await sizeOf({ key: 'a', body, expires: null })
      const maxSize = Math.floor(one * 4.5)
      const store = open({ maxSize, now: () => now })
      for (const key of ['a', 'b', 'c', 'd']) {
        store.set(key, makeEntry({ key, body, expires: null }))
        await store.flush()
        now += 1000
      }
      now += 61_000
      assert.ok(store.get('a')) // 'a' is now the most recently used of the four
      store.set('e', makeEntry({ key: 'e', body, expires: null }))
      assert.ok((await store.size()) <= maxSize)
      assert.deepEqual(await storedKeys(store), ['a', 'c', 'd', 'e'])
    })

    it('evicts expired entries before fresh ones, even recently used ones', async () => {
      let now = T0
      const one = await sizeOf({ key: 'a', body, expires: null })
      const store = open({ maxSize: Math.floor(one * 3.5), now: () => now })
      store.set('a', makeEntry({ key: 'a', body, expires: null }))
      now += 1000
      store.set('b', makeEntry({ key: 'b', body, expires: T0 + 5000 }))
      now += 1000
      store.set('c', makeEntry({ key: 'c', body, expires: null }))
      await store.flush()
      now += 61_000
      assert.ok(store.get('b')) // most recently used, but expired
      store.set('d', makeEntry({ key: 'd', body, expires: null }))
      assert.deepEqual(await storedKeys(store), ['a', 'c', 'd'])
    })

    it('keeps the entry just written even when it alone is close to the bound', async () => {
      const one = await sizeOf({ key: 'a', body, expires: null })
      const store = open({ maxSize: Math.floor(one * 1.05) })
      store.set('a', makeEntry({ key: 'a', body, expires: null }))
      await store.flush()
      store.set('b', makeEntry({ key: 'b', body, expires: null }))
      assert.deepEqual(await storedKeys(store), ['b'])
    })

    it('does not store an entry larger than the bound, and drops the older entry under its key', async () => {
      const store = open({ maxSize: 5000 })
      store.set('k', makeEntry({ key: 'k', body: new Uint8Array(10) }))
      await store.flush()
      store.set('k', makeEntry({ key: 'k', body: new Uint8Array(6000) }))
      await store.flush()
      assert.equal(store.get('k'), undefined)
      assert.equal(await store.size(), 0)
    })
  })

  describe('reads', () => {
    it('serve an entry they committed themselves without reading its row', async () => {
      const store = open()
      const entry = makeEntry({ key: 'k' })
      store.set('k', entry)
      await store.flush()
      const reads = countRowReads()
      try {
        assertSameEntry(store.get('k'), entry)
        assertSameEntry(store.get('k'), entry)
      } finally {
        reads.stop()
      }
      assert.deepEqual(reads.statements, [])
    })

    it('with maxSize, serve what they committed without a row read until pruning deletes rows', async () => {
      const store = open({ maxSize: 4_000 })
      const first = makeEntry({ key: 'first', body: new Uint8Array(1_500) })
      store.set('first', first)
      await store.flush()
      const reads = countRowReads()
      try {
        assertSameEntry(store.get('first'), first)
        assert.deepEqual(reads.statements, [], 'nothing pruned: the committed entry stands for its row')
        store.set('second', makeEntry({ key: 'second', body: new Uint8Array(1_500) }))
        store.set('third', makeEntry({ key: 'third', body: new Uint8Array(1_500) }))
        await store.flush() // past maxSize: pruning deletes the least recently used rows
        assert.equal(store.get('first'), undefined, 'a pruned row is not served from a copy')
      } finally {
        reads.stop()
      }
    })

    it('rewrite accessed_at at most once a minute, so hits rarely write', async () => {
      let now = T0
      const store = open({ now: () => now })
      store.set('k', makeEntry({ key: 'k' }))
      await store.flush()
      const accessedAt = () => {
        const db = raw()
        try {
          return db.prepare("SELECT accessed_at FROM entries WHERE key = 'k'").pluck().get()
        } finally {
          db.close()
        }
      }
      now += 59_000
      store.get('k')
      await store.flush()
      assert.equal(accessedAt(), T0)
      now += 1000
      store.get('k')
      await store.flush()
      assert.equal(accessedAt(), T0 + 60_000)
    })

    it('treat a row with unreadable metadata as invalid: listed without an entry, a miss, then deleted', async () => {
      const store = open()
      store.set('garbage', makeEntry({ key: 'garbage' }))
      store.set('wrong-shape', makeEntry({ key: 'wrong-shape' }))
      store.set('ok', makeEntry({ key: 'ok' }))
      await store.flush()
      const db = raw()
      db.prepare("UPDATE entries SET meta = '{not json' WHERE key = 'garbage'").run()
      db.prepare(`UPDATE entries SET meta = '{"v":1,"key":"wrong-shape"}' WHERE key = 'wrong-shape'`).run()
      db.close()

      const records = await collect(store.records())
      const invalid = records.filter((r) => r.entry === undefined).map((r) => r.key)
      assert.deepEqual(invalid.sort(), ['garbage', 'wrong-shape'])
      assert.equal(store.get('garbage'), undefined)
      assert.equal(store.get('wrong-shape'), undefined)
      assert.deepEqual(await storedKeys(store), ['ok'])
      assert.equal(await storedCount(store), 1)
    })

    it('still serve a hit while another connection holds the write lock', async () => {
      let now = T0
      const store = open({ busyTimeout: 0, now: () => now })
      store.set('k', makeEntry({ key: 'k' }))
      await store.flush()
      now += 120_000 // the hit will try to touch accessed_at
      const db = raw()
      db.exec('BEGIN IMMEDIATE')
      try {
        assert.ok(store.get('k'))
      } finally {
        db.exec('ROLLBACK')
        db.close()
      }
    })
  })

  describe('failures', () => {
    it('a row whose body is gone (a damaged file) reads as no entry, and a new write replaces it', async () => {
      const writer = open()
      writer.set('k', makeEntry({ key: 'k' }))
      await writer.flush()
      const db = raw()
      try {
        db.exec('DELETE FROM bodies')
      } finally {
        db.close()
      }
      const reader = open()
      assert.equal(reader.get('k'), undefined)
      reader.set('k', makeEntry({ key: 'k', body: new TextEncoder().encode('again') }))
      await reader.flush()
      assert.equal(new TextDecoder().decode(open().get('k')?.body), 'again')
    })

    it('of writes that wait past busyTimeout are one StoreError to onError, with the SQLite error as cause', async () => {
      const reports: Error[] = []
      const store = open({ busyTimeout: 50, onError: (error) => reports.push(error) })
      const db = raw()
      db.exec('BEGIN IMMEDIATE')
      try {
        store.set('k', makeEntry({ key: 'k' }))
        store.set('l', makeEntry({ key: 'l' }))
        store.delete(['m'])
        await store.flush()
      } finally {
        db.exec('ROLLBACK')
        db.close()
      }
      assert.equal(reports.length, 1)
      const [report] = reports
      assert.ok(report instanceof StoreError)
      assert.equal(report.code, 'FETCH_HTTP_CACHE_STORE_ERROR')
      assert.equal((report.cause as { code?: string }).code, 'SQLITE_BUSY')
      assert.match(report.message, /3 pending writes \(given up\)/)
      assert.equal(store.get('k'), undefined, 'a write given up is not read back either')
    })

    it('of a sweep (clear) reject its promise with a StoreError instead', async () => {
      const reports: Error[] = []
      const store = open({ busyTimeout: 50, onError: (error) => reports.push(error) })
      store.set('k', makeEntry({ key: 'k' }))
      await store.flush()
      const db = raw()
      db.exec('BEGIN IMMEDIATE')
      try {
        await assert.rejects(store.clear(), (error: unknown) => error instanceof StoreError)
      } finally {
        db.exec('ROLLBACK')
        db.close()
      }
      assert.deepEqual(reports, [])
      assert.ok(store.get('k'))
    })

    it('after close() are StoreErrors too', () => {
      const store = open()
      store.close()
      store.close() // idempotent
      assert.throws(() => store.get('k'), StoreError)
      assert.throws(() => store.set('k', makeEntry()), StoreError)
    })

    it('move a garbage file aside, keep it, report it through onError, and start a fresh store', async () => {
      const garbage = randomBytes(8192)
      await writeFile(path, garbage)
      await writeFile(`${path}-wal`, randomBytes(100))
      await writeFile(join(dir, 'unrelated.txt'), 'keep me')
      const reports: Error[] = []
      const store = open({ onError: (error) => reports.push(error) })

      assert.equal(reports.length, 1)
      const report = reports[0]
      assert.ok(report instanceof CorruptStoreError)
      assert.equal(report.code, 'FETCH_HTTP_CACHE_CORRUPT_STORE')
      assert.equal(report.path, path)
      assert.ok(report.movedTo.startsWith(`${path}.corrupt-`))
      assert.equal((report.cause as { code?: string }).code, 'SQLITE_NOTADB')
      assert.deepEqual(await readFile(report.movedTo), garbage)
      assert.ok((await stat(`${report.movedTo}-wal`)).isFile())

      const entry = makeEntry({ key: 'k' })
      store.set('k', entry)
      assertSameEntry(store.get('k'), entry)
      const files = await readdir(dir)
      assert.ok(files.includes('unrelated.txt'))
      assert.ok(files.includes('http_cache.sqlite'))
    })

    it('report a corrupt file as a process warning when there is no onError', async (t) => {
      const emitWarning = t.mock.method(process, 'emitWarning', () => {})
      await writeFile(path, randomBytes(4096))
      open()
      assert.equal(emitWarning.mock.callCount(), 1)
      const [message, options] = emitWarning.mock.calls[0]?.arguments ?? []
      assert.match(String(message), /corrupt/i)
      assert.equal((options as { code?: string } | undefined)?.code, 'FETCH_HTTP_CACHE_CORRUPT_STORE')
    })
  })

  describe('options', () => {
    const cases: [string, Record<string, unknown>, typeof InvalidOptionTypeError | typeof InvalidOptionValueError, string][] = [
      ['a non-string path', { path: 42 }, InvalidOptionTypeError, 'path'],
      ['an empty path', { path: '' }, InvalidOptionValueError, 'path'],
      ['a string maxSize', { path: ':memory:', maxSize: '1mb' }, InvalidOptionTypeError, 'maxSize'],
      ['a zero maxSize', { path: ':memory:', maxSize: 0 }, InvalidOptionValueError, 'maxSize'],
      ['a fractional busyTimeout', { path: ':memory:', busyTimeout: 1.5 }, InvalidOptionValueError, 'busyTimeout'],
      ['a non-function onError', { path: ':memory:', onError: 'log' }, InvalidOptionTypeError, 'onError'],
      ['an unknown option', { path: ':memory:', maxsize: 10 }, InvalidOptionValueError, 'maxsize'],
    ]
    for (const [what, options, type, option] of cases) {
      it(`reject ${what}, naming the option`, () => {
        assert.throws(
          () => new SqliteStore(options as unknown as SqliteStoreOptions),
          (error: unknown) =>
            error instanceof type && error.option === option && error.code === 'FETCH_HTTP_CACHE_INVALID_OPTION',
        )
      })
    }
  })
})
