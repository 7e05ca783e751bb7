import assert from 'node:assert/strict'
import { describe, it, type TestContext, test } from 'node:test'
import * as undici7 from 'undici'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'
import { cachedAgent, UNDICI_VERSIONS } from '../../helpers/undici-versions.js'

// undici 7's request() hands the cache a legacy handler (onHeaders), undici 8's a new one
// (onResponseStart): an interim 1xx must reach onInfo through either.
for (const [name, undici] of UNDICI_VERSIONS) {
  describe(`interim (1xx) responses reach request()'s onInfo through the cache (${name})`, () => {
    async function setUp(t: TestContext) {
      const origin = await startOrigin({
        '*': (_req, res) => {
          res.writeEarlyHints({ link: '</style.css>; rel=preload' })
          res.setHeader('cache-control', 'max-age=60')
          res.end('final')
        },
      })
      t.after(() => origin.close())
      const { agent } = cachedAgent(t, undici)
      const send = async (path: string, method = 'GET') => {
        const infos: { statusCode: number; link: unknown }[] = []
        const response = await undici.request(`${origin.url}${path}`, {
          dispatcher: agent,
          method,
          ...(method === 'POST' ? { body: 'x' } : {}),
          onInfo: (info) => infos.push({ statusCode: info.statusCode, link: info.headers.link }),
        })
        return { response, body: await response.body.text(), infos }
      }
      return { origin, send }
    }

    it('a miss passes the 103 on before the final answer; the hit that follows has none', async (t) => {
      const { origin, send } = await setUp(t)
      const miss = await send('/page')
      assert.equal(miss.response.statusCode, 200)
      assert.equal(miss.body, 'final')
      assert.match(String(miss.response.headers['cache-status']), /fwd=miss/)
      assert.deepEqual(miss.infos, [{ statusCode: 103, link: '</style.css>; rel=preload' }])
      const hit = await send('/page')
      assert.equal(hit.body, 'final')
      assert.match(String(hit.response.headers['cache-status']), /; hit/)
      assert.deepEqual(hit.infos, [])
      assert.equal(origin.count('/page'), 1)
    })

    it('a pass-through POST passes the 103 on', async (t) => {
      const { send } = await setUp(t)
      const post = await send('/form', 'POST')
      assert.equal(post.response.statusCode, 200)
      assert.equal(post.body, 'final')
      assert.match(String(post.response.headers['cache-status']), /fwd=method/)
      assert.deepEqual(post.infos, [{ statusCode: 103, link: '</style.css>; rel=preload' }])
    })
  })
}

test("installCache(): undici's request() through the global dispatcher gets the 103 of a miss and of a forceRefresh", async (t) => {
  const origin = await startOrigin({
    '*': (_req, res) => {
      res.writeEarlyHints({ link: '</a.js>; rel=preload' })
      res.end('final')
    },
  })
  installCache({ backend: 'memory' })
  t.after(async () => {
    uninstallCache()
    await origin.close()
  })
  for (const cacheOptions of [{}, { forceRefresh: true }]) {
    const infos: number[] = []
    const response = await undici7.request(`${origin.url}/global`, {
      onInfo: (info) => infos.push(info.statusCode),
      cacheOptions,
    } as Parameters<typeof undici7.request>[1])
    assert.equal(await response.body.text(), 'final')
    assert.match(String(response.headers['cache-status']), /fwd=(miss|request)/)
    assert.deepEqual(infos, [103])
  }
  assert.equal(origin.count('/global'), 2)
})
