import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it, type TestContext, test } from 'node:test'
import * as undici7 from 'undici'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'
import { cachedAgent, UNDICI_VERSIONS } from '../../helpers/undici-versions.js'

/**
 * `undici.request()` and `undici.stream()` give a field sent on several lines as an array of its
 * values in order, a field sent once as a string: the same through the cache, on a miss, a hit and
 * a pass-through (undici 7 hands the cache a legacy handler, undici 8 a new one).
 */

const REPEATED = {
  link: ['</a>; rel=preload', '</b>; rel=preload'],
  'www-authenticate': ['Basic', 'Bearer'],
  'content-type': ['application/json', 'text/html'],
  'x-once': 'one',
}

async function repeatingOrigin(t: TestContext): Promise<Origin> {
  const origin = await startOrigin({
    '*': (_req, res) => {
      const lines: string[] = ['Cache-Control', 'max-age=60', 'X-Once', 'one']
      for (const [name, values] of Object.entries(REPEATED))
        if (Array.isArray(values)) for (const v of values) lines.push(name, v)
      res.writeHead(200, lines)
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  return origin
}

function fieldsOf(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(REPEATED).map((name) => [name, headers[name]]))
}

for (const [name, undici] of UNDICI_VERSIONS) {
  describe(`repeated response fields through cacheInterceptor() stay an array (${name})`, () => {
    async function setUp(t: TestContext) {
      const origin = await repeatingOrigin(t)
      return { origin, agent: cachedAgent(t, undici).agent }
    }

    it('request(): a miss, a hit and a POST', async (t) => {
      const { origin, agent } = await setUp(t)
      for (const [method, status] of [
        ['GET', /fwd=miss/],
        ['GET', /; hit/],
        ['POST', /fwd=method/],
      ] as const) {
        const response = await undici.request(`${origin.url}/page`, {
          dispatcher: agent,
          method,
          ...(method === 'POST' ? { body: 'x' } : {}),
        })
        assert.equal(await response.body.text(), 'ok')
        assert.match(String(response.headers['cache-status']), status)
        assert.deepEqual(fieldsOf(response.headers), REPEATED)
      }
    })

    it('stream(): a miss and a hit', async (t) => {
      const { origin, agent } = await setUp(t)
      for (const status of [/fwd=miss/, /; hit/]) {
        let seen: Record<string, unknown> = {}
        await undici.stream(`${origin.url}/stream`, { dispatcher: agent, method: 'GET' }, ({ headers }) => {
          seen = headers as Record<string, unknown>
          return new Writable({ write: (_chunk, _encoding, done) => done() })
        })
        assert.match(String(seen['cache-status']), status)
        assert.deepEqual(fieldsOf(seen), REPEATED)
      }
    })
  })
}

test('installCache(): request() through the global dispatcher keeps repeated fields apart, miss and hit', async (t) => {
  const origin = await repeatingOrigin(t)
  installCache({ backend: 'memory' })
  t.after(() => uninstallCache())
  for (const status of [/fwd=miss/, /; hit/]) {
    const response = await undici7.request(`${origin.url}/global`)
    assert.equal(await response.body.text(), 'ok')
    assert.match(String(response.headers['cache-status']), status)
    assert.deepEqual(fieldsOf(response.headers), REPEATED)
  }
})
