import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import { startOrigin } from '../../helpers/origin.js'
import { cachedAgent, UNDICI_VERSIONS } from '../../helpers/undici-versions.js'

/**
 * The origin's trailer fields (RFC 9110 §6.5) reach `request()` and `stream()` callers for every
 * answer that came from the origin: a miss, a `no-store` answer, a POST. A hit has none: trailers
 * are not stored (README). undici 7 hands the cache a legacy handler (`onComplete(rawTrailers)`),
 * undici 8 a new one (`onResponseEnd(controller, trailers)`).
 */

for (const [name, undici] of UNDICI_VERSIONS) {
  describe(`trailer fields through cacheInterceptor() (${name})`, () => {
    async function setUp(t: TestContext) {
      const origin = await startOrigin({
        '*': (req, res) => {
          const cacheControl = req.url?.startsWith('/no-store') ? 'no-store' : 'max-age=60'
          res.writeHead(200, { Trailer: 'X-Checksum', 'Cache-Control': cacheControl })
          res.write('hello')
          res.addTrailers({ 'X-Checksum': 'abc123' })
          res.end()
        },
      })
      t.after(() => origin.close())
      return { origin, agent: cachedAgent(t, undici).agent }
    }

    it('request(): a miss, a no-store answer and a POST have the trailers; the hit has none', async (t) => {
      const { origin, agent } = await setUp(t)
      for (const [path, method, status, trailers] of [
        ['/page', 'GET', /fwd=miss/, { 'x-checksum': 'abc123' }],
        ['/page', 'GET', /; hit/, {}],
        ['/no-store', 'GET', /fwd=miss/, { 'x-checksum': 'abc123' }],
        ['/form', 'POST', /fwd=method/, { 'x-checksum': 'abc123' }],
      ] as const) {
        const response = await undici.request(`${origin.url}${path}`, {
          dispatcher: agent,
          method,
          ...(method === 'POST' ? { body: 'x' } : {}),
        })
        assert.equal(await response.body.text(), 'hello')
        assert.match(String(response.headers['cache-status']), status)
        assert.deepEqual({ ...response.trailers }, trailers, `${method} ${path}`)
      }
    })

    it('stream(): a miss has the trailers; the hit has none', async (t) => {
      const { origin, agent } = await setUp(t)
      for (const trailers of [{ 'x-checksum': 'abc123' }, {}]) {
        const done = await undici.stream(
          `${origin.url}/stream`,
          { dispatcher: agent, method: 'GET' },
          () => new Writable({ write: (_chunk, _encoding, next) => next() }),
        )
        assert.deepEqual({ ...done.trailers }, trailers)
      }
    })
  })
}
