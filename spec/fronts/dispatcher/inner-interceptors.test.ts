import assert from 'node:assert/strict'
import { describe, it, type TestContext, test } from 'node:test'
import { Agent, interceptors, request } from 'undici'
import { type CacheOptions, cacheInterceptor } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'
import { cachedAgent, UNDICI_VERSIONS } from '../../helpers/undici-versions.js'

test('a body an interceptor between the cache and the origin dropped is not stored for other callers', async (t) => {
  const origin = await startOrigin()
  const interceptor = cacheInterceptor({ backend: 'memory' })
  // undici applies the last interceptor outermost: the cache sees the response after dump() drops its body.
  const dumping = new Agent().compose(interceptors.dump({ maxSize: 1000 }), interceptor)
  const plain = new Agent().compose(interceptor)
  t.after(async () => {
    await dumping.close()
    await plain.close()
    await interceptor.cache.close()
    await origin.close()
  })
  const dumped = await request(`${origin.url}/a`, { dispatcher: dumping })
  assert.equal(await dumped.body.text(), '')
  const whole = await request(`${origin.url}/a`, { dispatcher: plain })
  assert.equal(await whole.body.text(), 'hello /a')
  assert.match(String(whole.headers['cache-status']), /fwd=miss/)
  assert.equal(origin.count('/a'), 2)
  // The whole body is stored: the next caller gets it from the cache.
  const hit = await request(`${origin.url}/a`, { dispatcher: plain })
  assert.equal(await hit.body.text(), 'hello /a')
  assert.match(String(hit.headers['cache-status']), /; hit/)
  assert.equal(origin.count('/a'), 2)
})

for (const [name, undici] of UNDICI_VERSIONS) {
  describe(`a redirect interceptor between the cache and the origin (${name})`, () => {
    async function setUp(t: TestContext, options: CacheOptions = {}) {
      const origin = await startOrigin()
      origin.route('/moved', (_req, res) => {
        res.writeHead(301, { location: '/target' })
        res.end('moved')
      })
      origin.route('/target', (_req, res) => void res.end('target'))
      t.after(() => origin.close())
      // The cache outermost: the redirect interceptor follows below it, unseen but for its history.
      const { agent } = cachedAgent(t, undici, options, undici.interceptors.redirect({ maxRedirections: 3 }))
      const get = async (path: string, maxRedirections?: number) => {
        const response = await undici.request(`${origin.url}${path}`, {
          dispatcher: agent,
          ...(maxRedirections === undefined ? {} : { maxRedirections }),
        })
        return {
          status: response.statusCode,
          body: await response.body.text(),
          cacheStatus: String(response.headers['cache-status']),
        }
      }
      return { origin, get }
    }

    it('a followed redirect is never the answer to a request for the URL that does not follow it', async (t) => {
      const { origin, get } = await setUp(t)
      assert.deepEqual((await get('/moved')).body, 'target')
      const unfollowed = await get('/moved', 0)
      assert.equal(unfollowed.status, 301, 'the origin’s own answer, not the stored redirect target')
      assert.equal(unfollowed.body, 'moved')
      assert.equal(origin.count('/moved'), 2)
    })

    it('a stored 3xx is not the answer to a request that asks for redirects to be followed', async (t) => {
      const { origin, get } = await setUp(t, { allowableCodes: [200, 301] })
      assert.equal((await get('/moved', 0)).status, 301)
      const again = await get('/moved', 0)
      assert.equal(again.status, 301)
      assert.match(again.cacheStatus, /; hit/, 'stored for callers that do not follow')
      const followed = await get('/moved', 3)
      assert.equal(followed.status, 200)
      assert.equal(followed.body, 'target')
      assert.equal(origin.count('/moved'), 2)
      assert.equal(origin.count('/target'), 1)
    })
  })
}
