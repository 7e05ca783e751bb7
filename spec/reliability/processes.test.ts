import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runWorkers, startWorker } from '../helpers/children.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import type { FetchWorkerConfig, FetchWorkerResult } from './workers/fetch-worker.js'
import { checkFinalState, inspectFile, type StoreWorkerConfig, type StoreWorkerResult } from './workers/store-worker.js'

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

describe('many processes on one SQLite file', { timeout: 120_000 }, () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    ;({ dir, cleanup } = await tempDir('fetch-http-cache-processes-'))
  })
  after(() => cleanup())

  it(`${WORKERS} processes × ${OPS} mixed reads, writes, deletes and size reads: no errors, every acknowledged write readable`, async () => {
    const path = join(dir, 'unbounded.sqlite')
    const results = await hammer(path, 1000)
    assertClean(results)

    const check = checkFinalState(path, results, false)
    assert.deepEqual(check.problems.slice(0, 5), [], `${check.problems.length} keys not as acknowledged`)
    assert.ok(check.durableFound > WORKERS * KEYS * 0.3, `only ${check.durableFound} durable keys checked`)
    const { integrity, total, sum } = inspectFile(path)
    assert.equal(integrity, 'ok')
    assert.equal(total, sum)
  })

  it(`${WORKERS} processes × ${OPS} with maxSize (pruning on most writes): no errors, no stale or torn entry, size bounded`, async () => {
    const path = join(dir, 'bounded.sqlite')
    const maxSize = 256 * 1024
    const results = await hammer(path, 2000, maxSize)
    assertClean(results)

    const check = checkFinalState(path, results, true)
    assert.deepEqual(check.problems.slice(0, 5), [], `${check.problems.length} keys not as acknowledged`)
    const { integrity, total, sum, rows } = inspectFile(path)
    assert.equal(integrity, 'ok')
    assert.equal(total, sum)
    assert.ok(total <= maxSize, `${total} bytes stored, bound ${maxSize}`)
    assert.ok(check.present > 0 && rows > 0, 'pruning kept some entries')
    assert.ok(check.present < check.written, `pruning removed some entries (${check.present} of ${check.written} kept)`)
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
      const { integrity, total, sum } = inspectFile(path)
      assert.equal(integrity, 'ok')
      assert.equal(total, sum)
      if (maxSize) assert.ok(total <= maxSize)
    })
  }
})
