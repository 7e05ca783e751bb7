import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { CorruptStoreError, cacheInfo, createCachedFetch, SqliteStore, StoreError } from '../../lib/index.js'
import { ROOT, runWorkers, startWorker } from '../helpers/children.js'
import { FaultyStore } from '../helpers/faulty-store.js'
import { type Front, fetchFront, readAll, undiciFront } from '../helpers/fronts.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'
import { Prng } from '../helpers/prng.js'
import { storedUrls } from '../helpers/store-reads.js'
import type { CacheUserConfig, CacheUserResult } from './workers/cache-user-worker.js'

/**
 * A broken store never breaks a request (issue 8): requests succeed from the network,
 * onError hears about it, and a corrupt file is moved aside, kept, and replaced.
 */

const CACHE_USER = join(import.meta.dirname, 'workers', 'cache-user-worker.ts')
const posix = process.platform !== 'win32'
/** Root ignores file modes: the read-only cases run their cache in a child process as `nobody`. */
const asRoot = posix && process.getuid?.() === 0
const unprivileged = asRoot ? { uid: 65534, gid: 65534 } : {}
/** Why the read-only cases cannot run here, if they cannot (no user switch, or a checkout `nobody` cannot read). */
const readOnlySkip = !posix
  ? 'POSIX file modes'
  : asRoot &&
      spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('node:fs').readFileSync('lib/index.ts')"], {
        cwd: ROOT,
        ...unprivileged,
      }).status !== 0
    ? 'running as root, and cannot run the cache as an unprivileged user (file modes do not apply to root)'
    : false

let origin: Origin
let dir: string
let cleanup: () => Promise<void>
let reported: Error[]
let waiting: { count: number; resolve: () => void }[] = []
const onError = (error: Error) => {
  reported.push(error)
  for (const waiter of waiting.filter(({ count }) => reported.length >= count)) waiter.resolve()
}
/** Resolves once onError has heard `count` errors: a write fails after the body has been read. */
function heard(count: number): Promise<void> {
  if (reported.length >= count) return Promise.resolve()
  return new Promise((resolve) => waiting.push({ count, resolve }))
}

before(async () => {
  origin = await startOrigin({
    '*': (req, res) => void res.end(req.url?.startsWith('/big/') ? bigBody(req.url) : `hello ${req.url}`),
  })
  ;({ dir, cleanup } = await tempDir('fetch-http-cache-broken-'))
})
after(async () => {
  await origin.close()
  await cleanup()
})
beforeEach(() => {
  reported = []
  waiting = []
})

/**
 * A body that names its URL, so a wrong one is caught. 600 bytes, so each row lives inside a b-tree
 * page: SQLite keeps no checksums, and garbage inside a large body's overflow pages would be read
 * back as body bytes, undetected (README, "what is not promised").
 */
function bigBody(url: string): string {
  return `${url}\n`.padEnd(600, '.')
}

let files = 0
const newPath = () => join(dir, `cache-${++files}.sqlite`)

/** Fetches `path` through `cachedFetch`, asserting the caller got the origin's answer. */
async function get(cachedFetch: ReturnType<typeof createCachedFetch>, path: string): Promise<{ hit: boolean }> {
  const response = await cachedFetch(origin.url + path)
  assert.equal(response.status, 200)
  const expected = path.startsWith('/big') ? bigBody(path) : `hello ${path}`
  assert.equal(await response.text(), expected)
  return { hit: response.headers.get('cache-status')?.includes('; hit') ?? false }
}

function integrity(path: string): string {
  const db = new Database(path, { readonly: true })
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

describe('a SQLite file made read-only', { skip: readOnlySkip }, () => {
  /** A cache file holding `/stored`, made by this (possibly root) process. */
  async function prepared(): Promise<{ cacheDir: string; path: string }> {
    const { dir: cacheDir } = await tempDir('fetch-http-cache-readonly-')
    const path = join(cacheDir, 'cache.sqlite')
    const cachedFetch = createCachedFetch({ cacheName: path })
    await get(cachedFetch, '/stored')
    await cachedFetch.cache.close()
    return { cacheDir, path }
  }

  async function runUser(config: CacheUserConfig): Promise<CacheUserResult> {
    const [result] = (await runWorkers([startWorker(CACHE_USER, [JSON.stringify(config)], unprivileged)], 30_000)) as [
      CacheUserResult,
    ]
    assert.deepEqual(result.failures, [], 'no request failed')
    for (const seen of result.seen) {
      assert.equal(seen.status, 200)
      assert.equal(seen.body, `hello ${seen.path}`)
    }
    return result
  }

  it('file read-only (directory writable): stored entries are served, new ones go to the network, the failed writes reach onError', async () => {
    const { cacheDir, path } = await prepared()
    try {
      const before = await readFile(path)
      await chmod(path, 0o444)
      await chmod(cacheDir, 0o777)
      const result = await runUser({ path, origin: origin.url, paths: ['/stored', '/fresh'] })
      assert.deepEqual(
        result.seen.map((s) => [s.path, s.hit]),
        [
          ['/stored', true],
          ['/fresh', false],
          ['/stored', true],
          ['/fresh', false],
        ],
      )
      assert.ok(result.reported.length >= 1)
      for (const report of result.reported) {
        assert.equal(report.code, 'FETCH_HTTP_CACHE_STORE_ERROR')
        assert.equal(report.cause, 'SQLITE_READONLY')
      }
      assert.deepEqual(await readFile(path), before, 'the file is untouched')
    } finally {
      await rm(cacheDir, { recursive: true, force: true })
    }
  })

  for (const [what, fileMode, dirMode] of [
    ['file and directory read-only', 0o444, 0o555],
    ['file unreadable', 0o000, 0o755],
  ] as const) {
    it(`${what}: the cache is off, every request goes to the network, onError hears it once`, async () => {
      const { cacheDir, path } = await prepared()
      try {
        await chmod(path, fileMode)
        await chmod(cacheDir, dirMode)
        const result = await runUser({ path, origin: origin.url, paths: ['/stored', '/fresh'] })
        assert.deepEqual(
          result.seen.map((s) => s.hit),
          [false, false, false, false],
        )
        assert.equal(result.reported.length, 1)
        const [report] = result.reported
        assert.equal(report?.code, 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE')
        assert.ok(report?.message.includes(path), 'the report names the file')
        assert.match(report?.message ?? '', /caching is off/)
      } finally {
        await chmod(cacheDir, 0o755)
        await rm(cacheDir, { recursive: true, force: true })
      }
    })
  }

  it('by default, a read-only file is one process warning, not one per request', async () => {
    const { cacheDir, path } = await prepared()
    try {
      await chmod(path, 0o444)
      await chmod(cacheDir, 0o555)
      const result = await runUser({ path, origin: origin.url, paths: ['/a', '/b', '/c'], defaultOnError: true })
      const ours = result.warnings.filter((w) => w.code?.startsWith('FETCH_HTTP_CACHE'))
      assert.equal(ours.length, 1, JSON.stringify(result.warnings))
      assert.equal(ours[0]?.code, 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE')
      assert.ok(ours[0]?.message.includes(path))
    } finally {
      await chmod(cacheDir, 0o755)
      await rm(cacheDir, { recursive: true, force: true })
    }
  })
})

describe('a SQLite file another process keeps locked', () => {
  it('past busyTimeout, the pending writes are given up in one report: onError hears it once, each write is counted', async () => {
    const path = newPath()
    // Long enough for the three requests to be made before it runs out, under any load: one batch given up.
    const cachedFetch = createCachedFetch({ backend: new SqliteStore({ path, busyTimeout: 2000 }), onError })
    const other = new Database(path)
    try {
      other.exec('BEGIN IMMEDIATE')
      const responses = []
      for (const name of ['/a', '/b', '/c']) {
        const response = await cachedFetch(origin.url + name)
        await response.text()
        responses.push(response)
      }
      await cachedFetch.cache.flush()
      for (const response of responses) assert.equal(await cacheInfo(response)?.stored, false)
      assert.equal(reported.length, 1)
      assert.match(reported[0]?.message ?? '', /3 pending writes \(given up\)/)
      assert.equal(cachedFetch.cache.stats().storeErrors, 3)
    } finally {
      other.exec('ROLLBACK')
      other.close()
      await cachedFetch.cache.close()
    }
  })
})

describe('a SQLite file deleted or replaced under a running process', () => {
  for (const [what, suffixes] of [
    ['deleted with its -wal and -shm', ['', '-wal', '-shm']],
    ['deleted alone (its -wal and -shm left behind)', ['']],
  ] as const) {
    it(`${what}: requests go on, the next write re-creates the file and says so`, async () => {
      const path = newPath()
      const cachedFetch = createCachedFetch({ cacheName: path, onError })
      try {
        await get(cachedFetch, '/before')
        await (cachedFetch.cache.store as SqliteStore).flush() // '/before' is in the file about to go
        for (const suffix of suffixes) await rm(path + suffix, { force: true })

        assert.equal((await get(cachedFetch, '/after')).hit, false)
        await (cachedFetch.cache.store as SqliteStore).flush() // the commit finds the file gone
        assert.ok(existsSync(path), 'the file is back')
        assert.equal(reported.length, 1)
        assert.ok(reported[0] instanceof StoreError)
        assert.match(reported[0].message, /deleted while in use/)
        assert.equal((await get(cachedFetch, '/after')).hit, true, 'the new file caches')
        assert.equal((await get(cachedFetch, '/before')).hit, false, 'the old entries went with the old file')
        assert.equal(integrity(path), 'ok')
        assert.equal((await stat(path)).mode & 0o777, 0o600)
      } finally {
        await cachedFetch.cache.close()
      }
    })
  }

  it('replaced by another process: the next write goes to the new file, which both then share', async () => {
    const path = newPath()
    const cachedFetch = createCachedFetch({ cacheName: path, onError })
    try {
      await get(cachedFetch, '/one')
      await (cachedFetch.cache.store as SqliteStore).flush() // '/one' is in the file that is moved away
      await rename(path, `${path}.old`)
      const other = new SqliteStore({ path })
      try {
        await get(cachedFetch, '/two')
        await (cachedFetch.cache.store as SqliteStore).flush() // the commit finds the file replaced
        assert.equal(reported.length, 1)
        assert.match(reported[0]?.message ?? '', /replaced while in use/)
        assert.deepEqual(await storedUrls(other), [`${origin.url}/two`])
        assert.equal(cachedFetch.cache.store.secret, other.secret, 'both use the secret of the file they share')
      } finally {
        other.close()
      }
    } finally {
      await cachedFetch.cache.close()
    }
  })
})

describe('a SQLite file filled with garbage', () => {
  it('at start: moved aside (kept, named in the report), replaced by a fresh file, requests unaffected', async () => {
    const path = newPath()
    const garbage = randomBytes(16 * 1024)
    await writeFile(path, garbage)
    const cachedFetch = createCachedFetch({ cacheName: path, onError })
    try {
      assert.equal(reported.length, 1)
      const report = reported[0]
      assert.ok(report instanceof CorruptStoreError)
      assert.ok(report.message.includes(report.movedTo))
      assert.deepEqual(await readFile(report.movedTo), garbage, 'the corrupt file is kept as it was')
      assert.equal((await get(cachedFetch, '/g')).hit, false)
      assert.equal((await get(cachedFetch, '/g')).hit, true)
      assert.equal(integrity(path), 'ok')
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('while running (SQLite finds corrupt pages): requests still succeed, the file is moved aside and replaced', async () => {
    const path = newPath()
    const paths = Array.from({ length: 120 }, (_, i) => `/big/${i}`)
    const writer = createCachedFetch({ cacheName: path })
    for (const p of paths) await get(writer, p)
    await writer.cache.close() // checkpoints: every page is now in the main file

    const cachedFetch = createCachedFetch({ cacheName: path, onError })
    try {
      assert.equal((await get(cachedFetch, '/big/0')).hit, true)
      // Garbage over every page but the first: the header still reads, the b-tree pages do not.
      const size = (await stat(path)).size
      const handle = await open(path, 'r+')
      await handle.write(new Prng(8).bytes(size - 4096), 0, size - 4096, 4096)
      await handle.close()

      for (const p of paths) await get(cachedFetch, p)
      const corrupt = reported.filter((e) => e instanceof CorruptStoreError)
      assert.equal(corrupt.length, 1, reported.map((e) => e.message).join('\n'))
      assert.ok(existsSync(corrupt[0]?.movedTo ?? ''), 'the corrupt file is kept')
      assert.equal(integrity(path), 'ok')
      for (const p of ['/big/1', '/big/120']) {
        await get(cachedFetch, p)
        assert.equal((await get(cachedFetch, p)).hit, true, 'the fresh file caches')
      }
    } finally {
      await cachedFetch.cache.close()
    }
  })
})

describe('a store that fails (full disk, I/O errors)', () => {
  const fronts: [string, (store: FaultyStore) => Front][] = [
    ['cached fetch', (store) => fetchFront({ backend: store, onError })],
    ['undici.request + cacheInterceptor', (store) => undiciFront({ backend: store, onError })],
  ]
  for (const [name, makeFront] of fronts) {
    describe(name, () => {
      let store: FaultyStore
      let front: Front
      beforeEach(() => {
        store = new FaultyStore(new SqliteStore({ path: newPath() }))
        front = makeFront(store)
      })
      afterEach(async () => {
        await front.close()
        await store.close()
      })

      it('a full disk (SQLITE_FULL on writes): requests succeed from the network, onError hears each, caching resumes once there is room', async () => {
        const path = `/full-${name.length}`
        store.fail('SQLITE_FULL', 'set')
        for (let i = 0; i < 3; i++) {
          const response = await front.get(origin.url + path)
          assert.equal(response.status, 200)
          assert.equal(await readAll(response.body), `hello ${path}`)
          assert.equal(response.hit, false)
          // The fetch front says whether the write landed: it did not.
          if (response.raw instanceof Response) assert.equal(await cacheInfo(response.raw)?.stored, false)
        }
        assert.equal(origin.count(path), 3)
        await heard(3)
        assert.equal(reported.length, 3)
        for (const error of reported) {
          assert.ok(error instanceof StoreError)
          assert.equal((error.cause as { code?: string }).code, 'SQLITE_FULL')
        }
        assert.equal(await count(store), 0)

        store.heal()
        const stored = await front.get(origin.url + path)
        assert.equal(stored.hit, false)
        await readAll(stored.body) // the fetch front stores a body once it is read to the end
        const hit = await front.get(origin.url + path)
        assert.equal(hit.hit, true)
        assert.equal(await readAll(hit.body), `hello ${path}`)
        assert.equal(origin.count(path), 4)
      })

      it('failing reads (SQLITE_IOERR): requests go to the network and succeed, onError hears each', async () => {
        const path = `/ioerr-${name.length}`
        await readAll((await front.get(origin.url + path)).body)
        store.fail('SQLITE_IOERR', 'get')
        for (let i = 0; i < 2; i++) {
          const response = await front.get(origin.url + path)
          assert.equal(await readAll(response.body), `hello ${path}`)
          assert.equal(response.hit, false)
        }
        assert.equal(origin.count(path), 3)
        assert.ok(reported.length >= 2)
        assert.ok(reported.every((e) => (e.cause as { code?: string }).code === 'SQLITE_IOERR'))
      })

      it('a store that fails everything, and an onError that throws: requests still succeed', async () => {
        const path = `/all-${name.length}`
        store.fail('SQLITE_IOERR', 'get', 'set', 'delete')
        const throwing =
          name === 'cached fetch'
            ? fetchFront({
                backend: store,
                onError: () => {
                  throw new Error('onError itself fails')
                },
              })
            : undiciFront({
                backend: store,
                onError: () => {
                  throw new Error('onError itself fails')
                },
              })
        try {
          for (let i = 0; i < 2; i++) {
            const response = await throwing.get(origin.url + path)
            assert.equal(await readAll(response.body), `hello ${path}`)
          }
          assert.ok((store.failures.get ?? 0) >= 2)
        } finally {
          await throwing.close()
        }
      })

      it('an async onError that rejects leaves no unhandled rejection behind', async () => {
        const path = `/async-${name.length}`
        store.fail('SQLITE_IOERR', 'get')
        const unhandled: unknown[] = []
        const listener = (reason: unknown) => unhandled.push(reason)
        process.on('unhandledRejection', listener)
        let heard = 0
        const onError = async () => {
          heard++
          throw new Error('log shipping failed')
        }
        const rejecting =
          name === 'cached fetch' ? fetchFront({ backend: store, onError }) : undiciFront({ backend: store, onError })
        try {
          const response = await rejecting.get(origin.url + path)
          assert.equal(await readAll(response.body), `hello ${path}`)
          // Unhandled rejections are raised after the microtask queue drains: a macrotask later.
          await new Promise((resolve) => setImmediate(resolve))
          assert.ok(heard >= 1)
          assert.deepEqual(unhandled, [])
        } finally {
          process.off('unhandledRejection', listener)
          await rejecting.close()
        }
      })
    })
  }
})

async function count(store: FaultyStore): Promise<number> {
  let n = 0
  for await (const _ of store.inner.records()) n++
  return n
}
