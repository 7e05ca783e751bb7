import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runWorkers, startWorker } from '../helpers/children.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import type { MemoryWorkerConfig, MemoryWorkerResult } from './workers/memory-worker.js'

/**
 * Bounded memory (issue 8): 100,000 distinct URLs through a memory store with maxSize keep the
 * heap (plus ArrayBuffers) under the bound plus a small constant. Measured in a child process with
 * --expose-gc; the origin runs here, so its own bookkeeping is not counted.
 */

const MiB = 1024 * 1024
const MAX_SIZE = 8 * MiB
/** Code, undici's connection state, V8's spare pages: what a process grows by whatever it caches. */
const CONSTANT = 8 * MiB
const BODY = 1024

describe('bounded memory', { timeout: 120_000 }, () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin({ '*': (_req, res) => void res.end('b'.repeat(BODY)) })
  })
  after(() => origin.close())

  it('100,000 distinct URLs (2,000 through cached fetch) through a memory store with maxSize: memory stays under maxSize plus a constant', async () => {
    const config: MemoryWorkerConfig = {
      origin: origin.url,
      maxSize: MAX_SIZE,
      fetchUrls: 2_000,
      engineUrls: 8_000,
      storeUrls: 90_000,
      bodySize: BODY,
    }
    const worker = startWorker(join(import.meta.dirname, 'workers', 'memory-worker.ts'), [JSON.stringify(config)], {
      nodeFlags: ['--expose-gc'],
    })
    const [result] = (await runWorkers([worker], 100_000)) as [MemoryWorkerResult]
    const urls = config.fetchUrls + config.engineUrls + config.storeUrls
    assert.equal(result.samples.at(-1)?.urls, urls)
    assert.ok(urls * BODY > 10 * MAX_SIZE, 'far more was cached than fits')

    const report = result.samples.map((s) => `${s.urls}: +${(s.growth / MiB).toFixed(1)} MiB, ${s.count} entries`).join('\n')
    for (const sample of result.samples) {
      assert.ok(sample.size <= MAX_SIZE, `${sample.size} bytes counted`)
      assert.ok(sample.growth <= MAX_SIZE + CONSTANT, `memory grew by ${(sample.growth / MiB).toFixed(1)} MiB:\n${report}`)
    }
    const last = result.samples.at(-1)
    assert.ok(last && last.count > 1000, 'the store kept entries up to its bound')
    assert.ok(result.afterClear <= CONSTANT, `${(result.afterClear / MiB).toFixed(1)} MiB held outside the store`)
    assert.equal(result.inFlight, 0)
    assert.equal(result.refreshing, 0)
  })
})
