import assert from 'node:assert/strict'
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { createCachedFetch, ForeignFileError, SqliteStore } from '../../lib/index.js'
import { APPLICATION_ID, ownership } from '../../lib/stores/sqlite-mark.js'
import { SCHEMA_VERSION } from '../../lib/stores/sqlite-schema.js'
import { makeEntry } from '../helpers/entries.js'
import { tempDir } from '../helpers/origin.js'

/**
 * A SQLite file that is not ours is never changed (lib/README.md, "Stores and entries"): not its
 * rows, its tables, its user_version, its journal mode or its file mode. The caller gets a
 * ForeignFileError when the cache is created.
 */

let dir: string
let cleanup: () => Promise<void>
before(async () => ({ dir, cleanup } = await tempDir()))
after(() => cleanup())

let files = 0
/** A database at a fresh path, made by `setup`, with mode 0644 as an app would leave it. */
function database(setup: (db: Database.Database) => void): string {
  const path = join(dir, `db-${files++}.sqlite`)
  const db = new Database(path)
  setup(db)
  db.close()
  chmodSync(path, 0o644)
  return path
}

/** Bytes and mode now, to compare with later. */
function snapshot(path: string): { bytes: Buffer; mode: number } {
  return { bytes: readFileSync(path), mode: statSync(path).mode }
}

function assertUntouched(path: string, before: { bytes: Buffer; mode: number }): void {
  const now = snapshot(path)
  assert.ok(now.bytes.equals(before.bytes), 'the file has the same bytes')
  assert.equal(now.mode.toString(8), before.mode.toString(8), 'the file has the same mode')
  assert.equal(existsSync(`${path}-wal`), false, 'no -wal was created beside it')
  assert.equal(existsSync(`${path}-shm`), false, 'no -shm was created beside it')
}

describe('a SQLite database that is not a cache file', () => {
  const apps: [string, (db: Database.Database) => void][] = [
    [
      "an app's journal with a table named entries",
      (db) => {
        db.exec("CREATE TABLE entries (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO entries (text) VALUES ('dear diary')")
        db.pragma('user_version = 3')
      },
    ],
    [
      'an app database shaped like ours (entries and meta tables, our user_version) without our secret',
      (db) => {
        db.exec(
          'CREATE TABLE entries (key TEXT, url TEXT, meta TEXT, size INTEGER, created_at INTEGER, expires_at INTEGER, accessed_at INTEGER);' +
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value); INSERT INTO meta VALUES ('owner', 'the app')",
        )
        db.pragma(`user_version = ${SCHEMA_VERSION}`)
      },
    ],
    ['a database with another application_id', (db) => void db.pragma('application_id = 1234')],
  ]
  for (const [name, setup] of apps) {
    it(`${name}: createCachedFetch throws ForeignFileError and the file stays byte for byte`, () => {
      const path = database(setup)
      const before = snapshot(path)
      assert.throws(
        () => createCachedFetch({ cacheName: path }),
        (error: unknown) =>
          error instanceof ForeignFileError &&
          error.code === 'FETCH_HTTP_CACHE_FOREIGN_FILE' &&
          error.path === path &&
          /is not a fetch-http-cache file/.test(error.message),
      )
      assertUntouched(path, before)
    })
  }

  it('new SqliteStore() refuses it the same way', () => {
    const path = database((db) => db.exec('CREATE TABLE notes (text TEXT)'))
    const before = snapshot(path)
    assert.throws(() => new SqliteStore({ path }), ForeignFileError)
    assertUntouched(path, before)
  })
})

describe('our own files', () => {
  it('a new file carries our application_id', async () => {
    const path = join(dir, 'new.sqlite')
    const cachedFetch = createCachedFetch({ cacheName: path })
    await cachedFetch.cache.close()
    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID)
    db.close()
  })

  it('a new file whose schema another process creates while this one looks at it is ours, not foreign', async () => {
    const path = database((db) => db.pragma('journal_mode = WAL'))
    const looking = new Database(path)
    let other: SqliteStore | undefined
    // Between this connection's first read and its next ones, another connection (as another process
    // starting at once would) creates the whole schema and commits.
    const interleaved = new Proxy(looking, {
      get(target, name) {
        const value = Reflect.get(target, name)
        if (name !== 'pragma' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
        return (...args: unknown[]) => {
          const result = value.apply(target, args)
          other ??= new SqliteStore({ path })
          return result
        }
      },
    })
    try {
      assert.deepEqual(ownership(interleaved), { kind: 'empty' }, 'what the file was when the look began')
      assert.ok(other, 'the other connection created the schema during the look')
      assert.deepEqual(ownership(looking), { kind: 'ours', marked: true, version: SCHEMA_VERSION })
    } finally {
      looking.close()
      await other?.close()
    }
  })

  it('an empty file (0 bytes) is taken as new', async () => {
    const path = database(() => {})
    assert.equal(statSync(path).size, 0)
    const store = new SqliteStore({ path })
    await store.close()
  })

  it('a file of schema 2 written before the mark existed is accepted, reset to this schema, and marked', async () => {
    const path = join(dir, 'unmarked-2.sqlite')
    const first = new SqliteStore({ path })
    first.set('k', makeEntry({ key: 'k' }))
    await first.close()
    const db = new Database(path)
    db.pragma('application_id = 0') // as every file was before the mark
    db.pragma('user_version = 2')
    db.close()
    const store = new SqliteStore({ path })
    assert.equal(store.get('k'), undefined, 'the rows of another schema are dropped')
    await store.close()
    assert.equal(applicationId(path), APPLICATION_ID)
    const reopened = new Database(path, { readonly: true })
    assert.equal(reopened.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    reopened.close()
  })

  it('a file of schema 4 keeps its rows and gains the index on url (schema 5 only added it)', async () => {
    const path = join(dir, 'schema-4.sqlite')
    const first = new SqliteStore({ path })
    first.set('k', makeEntry({ key: 'k', url: 'https://example.com/kept' }))
    await first.close()
    const db = new Database(path)
    db.exec('DROP INDEX entries_url')
    db.pragma('user_version = 4')
    db.close()
    const store = new SqliteStore({ path })
    assert.equal(store.get('k')?.url, 'https://example.com/kept', 'the rows are kept')
    assert.deepEqual(store.keysForUrl('https://example.com/kept'), ['k'])
    await store.close()
    const reopened = new Database(path, { readonly: true })
    assert.equal(reopened.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    assert.ok(reopened.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entries_url'").get())
    reopened.close()
  })

  it('a file of this schema without the mark is refused: every file of this schema was written with it', async () => {
    const path = join(dir, 'unmarked-current.sqlite')
    const first = new SqliteStore({ path })
    await first.close()
    const db = new Database(path)
    db.pragma('application_id = 0')
    db.close()
    assert.throws(() => new SqliteStore({ path }), ForeignFileError)
  })

  it('a file of schema 1 written before the mark existed is accepted, reset to this schema, and marked', async () => {
    const path = database((db) => {
      db.exec(
        'CREATE TABLE entries (key TEXT PRIMARY KEY, url TEXT NOT NULL, meta TEXT NOT NULL, body BLOB NOT NULL, size INTEGER NOT NULL, ' +
          'created_at INTEGER NOT NULL, expires_at INTEGER, accessed_at INTEGER NOT NULL);' +
          "CREATE TABLE meta (name TEXT PRIMARY KEY, value); INSERT INTO meta VALUES ('total_size', 0), ('secret', 'abc')",
      )
      db.pragma('user_version = 1')
    })
    const store = new SqliteStore({ path })
    await store.close()
    assert.equal(applicationId(path), APPLICATION_ID)
    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    db.close()
  })
})

function applicationId(path: string): unknown {
  const db = new Database(path, { readonly: true })
  try {
    return db.pragma('application_id', { simple: true })
  } finally {
    db.close()
  }
}
