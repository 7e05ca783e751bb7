import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createGzip } from 'node:zlib'
import { runWorkers, startWorker } from '../helpers/children.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'
import type { BodiesWorkerConfig, BodiesWorkerResult } from './workers/bodies-worker.js'

/**
 * Memory stays bounded by maxEntrySize whatever the caller does with large bodies (issue 12): each
 * case runs once through the cache and once without it, each in a child process of its own, and the
 * cache's peak may exceed plain fetch's only by what the settings allow plus a constant.
 */

const MiB = 1024 * 1024
/** V8's spare pages, undici's buffers, code: what two runs of the same work differ by. */
const CONSTANT = 24 * MiB
/** The same for the resident set, which also holds freed pages the allocator has not returned yet. */
const RSS_CONSTANT = 32 * MiB

/** Sends `size` bytes (`fill`) in 64 KiB writes, honouring backpressure. */
async function send(res: ServerResponse, size: number, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, { 'content-length': String(size), ...headers })
  const chunk = Buffer.alloc(64 * 1024, 'x')
  for (let sent = 0; sent < size; sent += chunk.byteLength) {
    if (!res.write(sent + chunk.byteLength <= size ? chunk : chunk.subarray(0, size - sent)))
      await new Promise((resolve) => res.once('drain', resolve))
  }
  res.end()
}

/** A gzip body that decodes to `size` zero bytes. */
async function gzipBomb(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 })
  const parts: Buffer[] = []
  gzip.on('data', (part: Buffer) => parts.push(part))
  const zeros = Buffer.alloc(MiB)
  for (let i = 0; i < size / MiB; i++) if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve))
  await new Promise((resolve) => gzip.end(resolve))
  return Buffer.concat(parts)
}

describe('memory bounded by maxEntrySize, against plain fetch', { timeout: 240_000 }, () => {
  let origin: Origin
  let bomb: Buffer
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    bomb = await gzipBomb(128 * MiB)
    origin = await startOrigin({
      '/bomb': (_req, res) => void res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb),
      '*': (req, res) => send(res, Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'))),
    })
    ;({ dir, cleanup } = await tempDir())
  })
  after(async () => {
    await origin.close()
    await cleanup()
  })

  let runs = 0
  async function run(config: Omit<BodiesWorkerConfig, 'origin' | 'cacheName' | 'cached'>) {
    const results: BodiesWorkerResult[] = []
    for (const cached of [false, true]) {
      const full = { ...config, origin: origin.url, cacheName: join(dir, `cache-${runs++}`), cached }
      const worker = startWorker(join(import.meta.dirname, 'workers', 'bodies-worker.ts'), [JSON.stringify(full)], {
        nodeFlags: ['--expose-gc'],
      })
      const [result] = (await runWorkers([worker], 60_000)) as [BodiesWorkerResult]
      results.push(result)
    }
    const [plain, cached] = results as [BodiesWorkerResult, BodiesWorkerResult]
    return {
      plain,
      cached,
      extra: cached.peak - plain.peak,
      extraRss: cached.peakRss - plain.peakRss,
      say:
        `heap+buffers: plain +${(plain.peak / MiB).toFixed(0)} MiB, cached +${(cached.peak / MiB).toFixed(0)} MiB; ` +
        `RSS: plain +${(plain.peakRss / MiB).toFixed(0)} MiB, cached +${(cached.peakRss / MiB).toFixed(0)} MiB`,
    }
  }

  for (const front of ['fetch', 'dispatcher'] as const) {
    it(`[${front}] four concurrent 16 MiB downloads, streamed and dropped, hold each body once while recording and once while writing`, async () => {
      const maxEntrySize = 16 * MiB
      const read = [1, 2, 3, 4].map((i) => `/d${i}?size=${16 * MiB}`)
      const { cached, extra, say } = await run({ front, maxEntrySize, read, held: [] })
      assert.deepEqual(cached.hitsAfter, [true, true, true, true], 'all four were stored')
      // Recorded once per response (never per chunk), plus the store's encoded copy while it writes.
      assert.ok(extra <= 2 * read.length * maxEntrySize + CONSTANT, say)
    })

    it(`[${front}] a coalesced caller that reads only once the others are done is detached, not failed: it gets its whole body, and memory stays bounded`, async () => {
      const maxEntrySize = 4 * MiB
      const path = `/shared?size=${96 * MiB}`
      const { cached, extra, extraRss, say } = await run({ front, maxEntrySize, read: [path], held: [path] })
      // Past maxEntrySize nothing is stored: the held caller's rest comes from its own origin request.
      assert.deepEqual(cached.held, ['ok'])
      assert.ok(extra <= 2 * maxEntrySize + CONSTANT, say)
      // What the machine gives the process, not only what V8 counts: the same bound (96 MiB passed through).
      assert.ok(extraRss <= 2 * maxEntrySize + RSS_CONSTANT, say)
    })
  }

  it('[dispatcher] a gzip bomb (128 MiB decoded) is decoded no further than maxEntrySize, and not stored', async () => {
    const maxEntrySize = 1 * MiB
    const { cached, extra, say } = await run({ front: 'dispatcher', maxEntrySize, read: ['/bomb'], held: [] })
    assert.deepEqual(cached.hitsAfter, [false])
    assert.ok(extra <= 8 * maxEntrySize + CONSTANT, say)
  })
})
