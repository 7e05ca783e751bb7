import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { Agent, type Dispatcher, request } from 'undici'
import type { Engine, KeyedRequest } from '../../lib/engine/engine.js'
import { createInterceptor } from '../../lib/fronts/dispatcher.js'
import { createEngine } from '../../lib/install/session.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import { cacheStatusParams, script } from './harness.js'

/**
 * The RFC 9111 fixes of the fetch front, through the dispatcher front: `undici.request()` on an
 * Agent composed with the interceptor over a memory engine with `cacheControl: true`.
 */
describe('RFC 9111 through the undici interceptor (cacheControl: true)', () => {
  let origin: Origin
  let engine: Engine
  let agent: Dispatcher
  let n = 0
  const path = () => `/icpt/${++n}`

  before(async () => {
    origin = await startOrigin()
    engine = createEngine({ backend: 'memory', cacheControl: true }).engine
    agent = new Agent().compose(createInterceptor(() => engine))
  })
  after(async () => {
    await agent.close()
    await engine.store.close()
    await origin.close()
  })

  /** Sends a request through the cached agent and reads the whole body. */
  async function send(
    p: string,
    options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    const response = await request(`${origin.url}${p}`, { dispatcher: agent, ...options })
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() }
  }

  /** What the store holds for a GET of `p` (no Vary in these tests). */
  function storedGet(p: string) {
    const url = `${origin.url}${p}`
    const keyed: KeyedRequest = { method: 'GET', url, headers: new Headers(), bodyDigest: '', baseKey: '' }
    keyed.baseKey = engine.keyFor('GET', url, keyed.headers, '')
    return engine.lookup(keyed)
  }

  it('answers a HEAD from the stored GET response, without a body and without asking the origin', async () => {
    const p = path()
    script(origin, p, { headers: { 'cache-control': 'max-age=3600', 'x-a': '1' }, body: 'hello' })
    assert.equal((await send(p)).text, 'hello')
    const head = await send(p, { method: 'HEAD' })
    assert.equal(origin.count(p), 1)
    assert.equal(head.status, 200)
    assert.equal(head.text, '')
    assert.equal(head.headers['x-a'], '1')
    assert.equal(head.headers['content-length'], '5')
    assert.equal(cacheStatusParams(head.headers['cache-status']).get('hit'), true)
  })

  it('a 200 to HEAD with matching validators refreshes the stored GET response (§4.3.5)', async () => {
    const p = path()
    script(
      origin,
      p,
      { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"h"', 'x-version': '1' }, body: 'body' },
      { headers: { 'cache-control': 'max-age=3600', etag: '"h"', 'x-version': '2' } },
    )
    await send(p)
    const head = await send(p, { method: 'HEAD' })
    assert.equal(origin.requests.at(-1)?.method, 'HEAD')
    assert.equal(head.headers['x-version'], '2')
    const again = await send(p)
    assert.equal(origin.count(p), 2, 'the refreshed GET response is fresh again')
    assert.equal(again.text, 'body')
    assert.equal(again.headers['x-version'], '2')
  })

  it('a 304 naming another strong ETag is not applied: the request is sent again, unconditionally (§4.3.4)', async () => {
    const p = path()
    script(origin, p, (req) => {
      if (req.headers['if-none-match']) return { status: 304, headers: { etag: '"other"', 'cache-control': 'max-age=60' } }
      const first = origin.count(p) === 1
      return {
        headers: { etag: first ? '"1"' : '"2"', 'cache-control': first ? 'max-age=1' : 'max-age=60', age: first ? '5' : '0' },
        body: first ? 'v1' : 'v2',
      }
    })
    assert.equal((await send(p)).text, 'v1')
    const second = await send(p)
    assert.equal(second.status, 200)
    assert.equal(second.text, 'v2')
    assert.deepEqual(
      origin.requests.filter((r) => r.path === p).map((r) => r.headers['if-none-match']),
      [undefined, '"1"', undefined],
    )
    assert.equal((await storedGet(p))?.headers.find(([name]) => name === 'etag')?.[1], '"2"')
  })

  it('a 304 with the stored ETag freshens the stored response and serves it', async () => {
    const p = path()
    script(origin, p, (req) =>
      req.headers['if-none-match']
        ? { status: 304, headers: { etag: '"s"', 'cache-control': 'max-age=60' } }
        : { headers: { etag: '"s"', 'cache-control': 'max-age=1', age: '5' }, body: 'same' },
    )
    await send(p)
    const revalidated = await send(p)
    assert.equal(revalidated.status, 200)
    assert.equal(revalidated.text, 'same')
    assert.equal(cacheStatusParams(revalidated.headers['cache-status']).get('fwd-status'), '304')
    await send(p)
    assert.equal(origin.count(p), 2)
  })

  it('says fwd=bypass with a detail, or fwd=method, in Cache-Status when the cache stays out of the way', async () => {
    const p = path()
    script(origin, p, { headers: { 'cache-control': 'max-age=60' } })
    const ranged = cacheStatusParams((await send(p, { headers: { range: 'bytes=0-1' } })).headers['cache-status'])
    assert.equal(ranged.get('fwd'), 'bypass')
    assert.equal(ranged.get('detail'), 'range-request')
    const posted = cacheStatusParams((await send(p, { method: 'POST', body: 'x' })).headers['cache-status'])
    assert.equal(posted.get('fwd'), 'method')
    assert.equal(posted.get('fwd-status'), '200')
  })

  it('a successful POST it bypasses invalidates the stored GET response (§4.4)', async () => {
    const p = path()
    script(origin, p, { headers: { 'cache-control': 'max-age=3600' } })
    await send(p)
    await send(p, { method: 'POST', body: 'x' })
    await send(p)
    assert.deepEqual(
      origin.requests.filter((r) => r.path === p).map((r) => r.method),
      ['GET', 'POST', 'GET'],
    )
  })

  it('never stores hop-by-hop fields or the fields Connection lists (§3.1)', async () => {
    const p = path()
    script(origin, p, {
      headers: { 'cache-control': 'max-age=3600', connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'x-kept': 'yes' },
    })
    await send(p)
    const stored = await storedGet(p)
    const names = stored?.headers.map(([name]) => name) ?? []
    assert.ok(names.includes('x-kept'), `stored: ${names.join(', ')}`)
    for (const name of ['connection', 'keep-alive', 'x-hop', 'transfer-encoding'])
      assert.ok(!names.includes(name), `${name} stored`)
    const hit = await send(p)
    assert.equal(origin.count(p), 1)
    assert.equal(hit.headers['x-hop'], undefined)
  })
})
