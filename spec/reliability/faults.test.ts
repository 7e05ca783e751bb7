import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { type CacheFront, FRONTS, readAll } from '../helpers/fronts.js'
import { type Origin, type Route, startOrigin, tempDir } from '../helpers/origin.js'
import { storedCount } from '../helpers/store-reads.js'

/**
 * Faults between the origin and the caller (issue 8): the caller sees the error, nothing is stored,
 * and the next request goes to the origin. Every route fails on its first request only and answers
 * normally afterwards, so each test also shows that the cache works once the fault is gone.
 */

const BODY = 'x'.repeat(64 * 1024)

/** Fails the first request with `fault`, then answers `BODY`. */
function failOnce(fault: Route): Route {
  let calls = 0
  return async (req, res, body) => {
    if (++calls === 1) return fault(req, res, body)
    res.setHeader('content-type', 'text/plain')
    res.end(BODY)
  }
}

/** Fresh routes per origin: each fails its first request. */
const makeRoutes = (): Record<string, Route> => ({
  // Headers and part of the body, then a TCP reset.
  '/reset': failOnce(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) })
    res.write(BODY.slice(0, 4096))
    await sleep(30)
    res.socket?.resetAndDestroy()
  }),
  // A Content-Length longer than the body, then the connection closes.
  '/short': failOnce((req) => {
    req.socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 65536\r\n\r\nonly this much')
  }),
  // A chunked body whose source stream errors part-way: the chunked encoding is never terminated.
  '/stream-error': failOnce(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    async function* source() {
      yield BODY.slice(0, 4096)
      await sleep(30)
      yield BODY.slice(4096, 8192)
      await sleep(30)
      throw new Error('the origin body stream failed')
    }
    await pipeline(Readable.from(source()), res).catch(() => {})
  }),
  // A body that trickles in, so the caller can abort part-way.
  '/slow': failOnce(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) })
    for (let sent = 0; sent < BODY.length && !res.destroyed; sent += 4096) {
      res.write(BODY.slice(sent, sent + 4096))
      await sleep(20)
    }
    res.end()
  }),
})

for (const kind of FRONTS) {
  describe(`faults through the ${kind.name} front`, () => {
    let origin: Origin
    let dir: string
    let cleanup: () => Promise<void>
    let store: SqliteStore
    let front: CacheFront
    let reported: Error[]

    before(async () => {
      ;({ dir, cleanup } = await tempDir('fetch-http-cache-faults-'))
    })
    after(() => cleanup())
    beforeEach(async () => {
      origin = await startOrigin(makeRoutes())
      store = new SqliteStore({ path: join(dir, `${Date.now()}-${Math.random()}.sqlite`) })
      reported = []
      front = kind.open({ backend: store, onError: (e) => reported.push(e) })
    })
    afterEach(async () => {
      await front.close()
      store.close()
      await origin.close()
    })

    /** After a failed first request: nothing stored, the next goes to the origin, the one after is a hit. */
    async function assertRecovers(path: string): Promise<void> {
      await front.settled() // any (wrong) write has landed
      assert.equal(await storedCount(store), 0, 'nothing stored after the failure')
      const second = await front.get(origin.url + path)
      assert.equal(second.hit, false)
      assert.equal(await readAll(second.body), BODY)
      assert.equal(origin.count(path), 2, 'the request after the failure went to the origin')
      const third = await front.get(origin.url + path)
      assert.equal(third.hit, true)
      assert.equal(await readAll(third.body), BODY)
      assert.equal(origin.count(path), 2)
      assert.deepEqual(reported, [], 'a network fault is not a cache failure')
    }

    for (const [path, what] of [
      ['/reset', 'an origin that resets the connection part-way through the body'],
      ['/short', 'a Content-Length longer than the body'],
      ['/stream-error', 'a chunked body whose origin stream errors'],
    ] as const) {
      it(`${what}: the caller sees the error, nothing is stored, the next request goes to the origin`, async () => {
        const first = await front.get(origin.url + path)
        assert.equal(first.status, 200)
        await assert.rejects(readAll(first.body))
        await assertRecovers(path)
      })
    }

    it('a caller that aborts while reading: the caller sees the abort, nothing is stored, the next request goes to the origin', async () => {
      const controller = new AbortController()
      const first = await front.get(`${origin.url}/slow`, { signal: controller.signal })
      const chunks = first.body[Symbol.asyncIterator]()
      assert.equal((await chunks.next()).done, false)
      controller.abort()
      await assert.rejects(async () => {
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) {}
      })
      await assertRecovers('/slow')
    })

    it('a caller that stops reading (cancels the body): nothing is stored, the next request goes to the origin', async () => {
      const first = await front.get(`${origin.url}/slow`)
      const chunks = first.body[Symbol.asyncIterator]()
      assert.equal((await chunks.next()).done, false)
      await chunks.return?.() // what `break` in a for-await does: cancels the body
      await assertRecovers('/slow')
    })

    it('a cached response whose reader aborts or cancels leaves the entry whole', async () => {
      const url = `${origin.url}/whole`
      origin.route('/whole', (_req, res) => void res.end(BODY))
      assert.equal(await readAll((await front.get(url)).body), BODY)
      const key = (await store.records().next()).value?.key as string
      const stored = Buffer.from(store.get(key)?.body ?? []).toString()
      assert.equal(stored, BODY)

      const controller = new AbortController()
      const aborted = await front.get(url, { signal: controller.signal })
      assert.equal(aborted.hit, true)
      controller.abort()
      // node:http parses a small answer whole with its header fields (the cache's as the network's):
      // an abort after 'response' may find nothing left to cut. The entry must stay whole either way.
      if (kind.name === 'node:http') await readAll(aborted.body).catch(() => undefined)
      else await assert.rejects(readAll(aborted.body))
      const cancelled = await front.get(url)
      assert.equal(cancelled.hit, true)
      await cancelled.cancel()

      const again = await front.get(url)
      assert.equal(again.hit, true)
      assert.equal(await readAll(again.body), BODY)
      assert.equal(Buffer.from(store.get(key)?.body ?? []).toString(), BODY)
      assert.equal(origin.count('/whole'), 1)
    })
  })
}
