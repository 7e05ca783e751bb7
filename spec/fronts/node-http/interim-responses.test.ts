import assert from 'node:assert/strict'
import http from 'node:http'
import { it } from 'node:test'
import { cachedRequest, type RequestFunction } from '../../../lib/fronts/node-http/front.js'
import type { CacheOptions } from '../../../lib/index.js'
import { Cache } from '../../../lib/inspect/cache.js'
import { createEngine } from '../../../lib/install/session.js'
import { startOrigin } from '../../helpers/origin.js'

/**
 * node:http's `'information'` event (a 103 Early Hints, RFC 8297) fires for every request that
 * reaches the origin, as without the cache: each miss, each revalidation. A hit has none. (With
 * `cacheControl` off, the default, a `no-store` answer is stored like any other, so the requests
 * after the first are hits: that is why they have none.)
 */

async function setUp(t: { after(fn: () => Promise<void>): void }, options: CacheOptions) {
  const origin = await startOrigin({
    '*': (req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' })
      if (req.url === '/revalidated' && req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { ETag: '"v1"', 'Cache-Control': 'no-cache' })
        res.end()
        return
      }
      const cacheControl = req.url === '/revalidated' ? 'no-cache' : 'no-store'
      res.writeHead(200, { 'Cache-Control': cacheControl, ETag: '"v1"' })
      res.end('ok')
    },
  })
  const { engine, owned } = createEngine(options, Date.now)
  const cache = new Cache(engine, owned)
  const agent = new http.Agent({ keepAlive: true })
  const send = cachedRequest(http.request as RequestFunction, () => agent, { engine: () => engine })
  t.after(async () => {
    agent.destroy()
    await cache.close()
    await origin.close()
  })
  /** One GET: its `information` events (status and Link), and its Cache-Status. */
  const get = (path: string) =>
    new Promise<{ infos: string[]; cacheStatus: string }>((resolve, reject) => {
      const infos: string[] = []
      const req = send(`${origin.url}${path}`, { method: 'GET' })
      req.on('information', (info) => infos.push(`${info.statusCode} ${info.headers.link}`))
      req.once('error', reject)
      req.once('response', (res) => {
        res.resume()
        res.once('end', () => resolve({ infos, cacheStatus: String(res.headers['cache-status']) }))
      })
      req.end()
    })
  return { origin, get }
}

const HINT = ['103 </style.css>; rel=preload']

it('node:http: every request that reaches the origin gets its 103 (misses of a no-store answer, revalidations)', async (t) => {
  const { origin, get } = await setUp(t, { backend: 'memory', cacheControl: true })
  for (let i = 0; i < 3; i++) {
    const miss = await get('/no-store')
    assert.match(miss.cacheStatus, /fwd=miss/)
    assert.deepEqual(miss.infos, HINT)
  }
  assert.equal(origin.count('/no-store'), 3)
  for (const status of [/fwd=miss/, /fwd=stale; fwd-status=304/, /fwd=stale; fwd-status=304/]) {
    const answer = await get('/revalidated')
    assert.match(answer.cacheStatus, status)
    assert.deepEqual(answer.infos, HINT)
  }
})

it('node:http: a hit has no 103 (with cacheControl off a no-store answer is stored)', async (t) => {
  const { origin, get } = await setUp(t, { backend: 'memory' })
  const miss = await get('/no-store')
  assert.deepEqual(miss.infos, HINT)
  const hit = await get('/no-store')
  assert.match(hit.cacheStatus, /; hit/)
  assert.deepEqual(hit.infos, [])
  assert.equal(origin.count('/no-store'), 1)
})
