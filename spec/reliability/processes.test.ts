import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { runWorkers, startWorker } from '../helpers/children.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import type { FetchWorkerConfig, FetchWorkerResult } from './workers/fetch-worker.js'
import { entryTag, type StoreWorkerConfig, type StoreWorkerResult, tagOf } from './workers/store-worker.js'

/**
 * Many processes, one file (issue 8). The sizes here run in seconds on two cores; the soak in
 * bench/soak-processes.ts runs the same workers longer.
 */
const WORKERS = 4
const OPS = 5000
const KEYS = 300
const TIME_LIMIT = 50_000
const FETCH_REQUESTS = 600
const STORE_WORKER = join(import.meta.dirname, 'workers', 'store-worker.ts')
const FETCH_WORKER = join(import.meta.dirname, 'workers', 'fetch-worker.ts')

async function hammer(path: string, seed: number, maxSize?: number): Promise<StoreWorkerResult[]> {
  const workers = Array.from({ length: WORKERS }, (_, id) => {
    const config: StoreWorkerConfig = {
      path,
      id,
      workers: WORKERS,
      ops: OPS,
      keys: KEYS,
      seed: seed + id,
      ...(maxSize ? { maxSize } : {}),
    }
    return startWorker(STORE_WORKER, [JSON.stringify(config)])
  })
  return (await runWorkers(workers, TIME_LIMIT)) as StoreWorkerResult[]
}

function assertClean(results: StoreWorkerResult[]): void {
  for (const result of results) {
    assert.deepEqual(result.errors.slice(0, 5), [], `worker ${result.id} saw ${result.errors.length} errors`)
    assert.deepEqual(result.violations.slice(0, 5), [], `worker ${result.id} saw ${result.violations.length} wrong reads`)
    const done = Object.values(result.counts).reduce((a, b) => a + b, 0)
    assert.equal(done, OPS)
  }
}

/** integrity_check, and the trigger-kept total equal to the rows' real sum. */
function inspect(path: string): { integrity: string; total: number; sum: number; rows: number } {
  const db = new Database(path, { readonly: true })
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      total: db.prepare("SELECT value FROM meta WHERE name = 'total_size'").pluck().get() as number,
      sum: db.prepare('SELECT COALESCE(SUM(size), 0) FROM entries').pluck().get() as number,
      rows: db.prepare('SELECT COUNT(*) FROM entries').pluck().get() as number,
    }
  } finally {
    db.close()
  }
}

describe('many processes on one SQLite file', { timeout: 120_000 }, () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    ;({ dir, cleanup } = await tempDir('fetch-cache-processes-'))
  })
  after(() => cleanup())

  it(`${WORKERS} processes × ${OPS} mixed reads, writes, deletes and expiry prunes: no errors, every acknowledged write readable`, async () => {
    const path = join(dir, 'unbounded.sqlite')
    const results = await hammer(path, 1000)
    assertClean(results)

    const store = new SqliteStore({ path })
    try {
      let checked = 0
      for (const result of results) {
        for (const [key, known] of Object.entries(result.state)) {
          const found = store.get(key)
          if ('deleted' in known) assert.equal(found, undefined, `${key} was deleted`)
          else if (known.durable) {
            assert.ok(found, `${key}: acknowledged ${tagOf(key, known.version)} is missing`)
            assert.equal(entryTag(found), tagOf(key, known.version))
            checked++
          } else if (found) assert.equal(entryTag(found), tagOf(key, known.version), `${key} (expired, may be pruned)`)
        }
      }
      assert.ok(checked > WORKERS * KEYS * 0.3, `only ${checked} durable keys checked`)
    } finally {
      store.close()
    }
    const { integrity, total, sum } = inspect(path)
    assert.equal(integrity, 'ok')
    assert.equal(total, sum)
  })

  it(`${WORKERS} processes × ${OPS} with maxSize (pruning on most writes): no errors, no stale or torn entry, size bounded`, async () => {
    const path = join(dir, 'bounded.sqlite')
    const maxSize = 256 * 1024
    const results = await hammer(path, 2000, maxSize)
    assertClean(results)

    const store = new SqliteStore({ path })
    let present = 0
    let written = 0
    try {
      for (const result of results) {
        for (const [key, known] of Object.entries(result.state)) {
          const found = store.get(key)
          if ('deleted' in known) assert.equal(found, undefined, `${key} was deleted`)
          else {
            written++
            // Pruned or there; when there, it is the last version acknowledged, whole.
            if (found) {
              present++
              assert.equal(entryTag(found), tagOf(key, known.version))
            }
          }
        }
      }
    } finally {
      store.close()
    }
    const { integrity, total, sum, rows } = inspect(path)
    assert.equal(integrity, 'ok')
    assert.equal(total, sum)
    assert.ok(total <= maxSize, `${total} bytes stored, bound ${maxSize}`)
    assert.ok(present > 0 && rows > 0, 'pruning kept some entries')
    assert.ok(present < written, `pruning removed some entries (${present} of ${written} kept)`)
  })

  for (const maxSize of [undefined, 64 * 1024]) {
    it(`${WORKERS} processes × ${FETCH_REQUESTS} cached fetch and undici requests on one file${maxSize ? ' with maxSize' : ''}: every caller gets the right answer, nothing reported`, async () => {
      const path = join(dir, `fetch-${maxSize ?? 'unbounded'}.sqlite`)
      const origin = await startOrigin()
      try {
        const workers = Array.from({ length: WORKERS }, (_, id) => {
          const config: FetchWorkerConfig = {
            path,
            origin: origin.url,
            requests: FETCH_REQUESTS,
            paths: 60,
            seed: 3000 + id,
            ...(maxSize ? { maxSize } : {}),
          }
          return startWorker(FETCH_WORKER, [JSON.stringify(config)])
        })
        const results = (await runWorkers(workers, TIME_LIMIT)) as FetchWorkerResult[]
        for (const result of results) {
          assert.deepEqual(result.failures.slice(0, 5), [], `${result.failures.length} requests failed`)
          assert.deepEqual(result.reported.slice(0, 5), [], `${result.reported.length} store errors reported`)
        }
        const hits = results.reduce((sum, r) => sum + r.fromCache, 0)
        assert.ok(hits > WORKERS * FETCH_REQUESTS * 0.3, `only ${hits} hits: the processes did not share the cache`)
        assert.ok(origin.count() < WORKERS * FETCH_REQUESTS - hits + 1)
      } finally {
        await origin.close()
      }
      const { integrity, total, sum } = inspect(path)
      assert.equal(integrity, 'ok')
      assert.equal(total, sum)
      if (maxSize) assert.ok(total <= maxSize)
    })
  }
})
