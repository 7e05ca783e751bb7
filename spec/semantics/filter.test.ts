import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { capabilities } from '../../lib/entry/store.js'
import { FilterError } from '../../lib/errors.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { startPerTestOn } from './fixtures.js'

/**
 * `filter` (requests-cache's `filter_fn`, axios-cache-interceptor's `cachePredicate.responseMatch`):
 * asked once the body has arrived, with a `Response` of its own over the recorded bytes, so it can
 * refuse the 200s that carry an error in their body, at no cost to the caller.
 */

/** Answers 200 with `body` as JSON (with a Content-Length), gzipped when asked. */
function json(body: unknown, gzip = false): Route {
  return (_req: IncomingMessage, res: ServerResponse) => {
    const text = Buffer.from(JSON.stringify(body))
    const bytes = gzip ? gzipSync(text) : text
    res.setHeader('content-type', 'application/json')
    if (gzip) res.setHeader('content-encoding', 'gzip')
    res.setHeader('content-length', String(bytes.byteLength))
    res.end(bytes)
  }
}

/** Stores what has no `error` member: reads the body as JSON, after a turn of the loop (an async filter). */
async function noErrorMember(response: Response): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve))
  const body = (await response.json()) as Record<string, unknown>
  return !('error' in body)
}

// Large enough to arrive in several chunks: the caller's stream and the filter's are read apart.
const PAD = 'x'.repeat(200_000)
const OK = { ok: true, pad: PAD }
const QUOTA = { error: 'quota', pad: PAD }

forEachFront('filter', (kind) => {
  const start = startPerTestOn(kind)

  /** Through `options`' store: `/ok` is stored and served from the cache, `/quota` is not; every caller reads its whole body. */
  async function storesOkSkipsQuota(options: CacheOptions): Promise<void> {
    const { front, origin, url } = await start({ ...options, filter: noErrorMember }, { '/ok': json(OK), '/quota': json(QUOTA) })
    await capabilities(front.cache.store).ready?.ready()
    for (let i = 0; i < 2; i++) {
      const ok = await front.get(url('/ok'))
      assert.deepEqual(JSON.parse(await ok.text()), OK)
      assert.equal(ok.fromCache, i === 1)
      const quota = await front.get(url('/quota'))
      assert.deepEqual(JSON.parse(await quota.text()), QUOTA)
      assert.equal(quota.fromCache, false)
    }
    assert.equal(origin.count('/ok'), 1)
    assert.equal(origin.count('/quota'), 2)
  }

  test('an async filter reading the JSON body stores {"ok": true} and skips {"error": "quota"}; each caller reads its full body (SQLite)', () =>
    storesOkSkipsQuota({}))

  test('the same on the memory store', () => storesOkSkipsQuota({ backend: 'memory' }))

  describe('the same on the Redis store', { skip: redisMissing }, () => {
    let server: RedisServer | undefined
    before(async () => {
      server = await startRedis()
    })
    after(() => server?.stop())
    test('an async filter reading the JSON body stores {"ok": true} and skips {"error": "quota"} (Redis)', () => {
      // Generous timeouts: a loaded machine must not turn the store's fail-open into a miss here.
      const redis = {
        url: (server as RedisServer).url,
        prefix: uniquePrefix('filter'),
        commandTimeout: 10_000,
        connectTimeout: 30_000,
      }
      return storesOkSkipsQuota({ backend: 'redis', redis })
    })
  })

  test('a response the filter refuses is not stored (test_filter_fn)', async () => {
    const { front, origin, url } = await start({ filter: (response) => !response.url.endsWith('/private') })
    for (let i = 0; i < 2; i++) {
      await (await front.get(url('/public'))).text()
      await (await front.get(url('/private'))).text()
    }
    assert.equal(origin.count('/public'), 1)
    assert.equal(origin.count('/private'), 2)
  })

  test("the filter reads the body without content-coding, with the origin's status and headers", async () => {
    const seen: { status: number; type: string | null; body: unknown }[] = []
    const { front, url } = await start(
      {
        filter: async (response) => {
          seen.push({ status: response.status, type: response.headers.get('content-type'), body: await response.json() })
          return true
        },
      },
      { '/gz': json({ ok: true }, true) },
    )
    // fetch decodes the caller's body, undici does not: the filter gets it decoded either way.
    await (await front.get(url('/gz'))).text()
    assert.deepEqual(seen, [{ status: 200, type: 'application/json', body: { ok: true } }])
    const hit = await front.get(url('/gz'))
    assert.equal(hit.fromCache, true)
    assert.deepEqual(JSON.parse(await hit.text()), { ok: true })
  })

  for (const [how, filter] of [
    [
      'throws',
      () => {
        throw new Error('filter broke')
      },
    ],
    ['rejects', () => Promise.reject(new Error('filter broke'))],
  ] as const) {
    test(`a filter that ${how} is reported as a FilterError, the response is not stored, and its caller reads it all`, async () => {
      const errors: Error[] = []
      const { front, origin, url } = await start({ filter, onError: (error) => errors.push(error) }, { '/ok': json(OK) })
      for (let i = 0; i < 2; i++) {
        const response = await front.get(url('/ok'))
        assert.deepEqual(JSON.parse(await response.text()), OK)
        assert.equal(response.fromCache, false)
      }
      assert.equal(origin.count('/ok'), 2)
      assert.equal(await front.cache.count(), 0)
      assert.equal(errors.length, 2)
      for (const error of errors) {
        assert.ok(error instanceof FilterError)
        assert.equal(error.code, 'FETCH_HTTP_CACHE_FILTER_ERROR')
        assert.match(String((error.cause as Error).message), /filter broke/)
      }
    })
  }

  test('Cache-Status claims `stored` only once the filter has decided: never with the headers', async () => {
    const { front, url } = await start({ filter: noErrorMember }, { '/ok': json(OK), '/quota': json(QUOTA) })
    for (const path of ['/ok', '/quota']) {
      const response = await front.get(url(path))
      assert.equal(response.stored, false, `${path}: ${response.cacheStatus}`)
      await response.text()
    }
    assert.equal((await front.get(url('/ok'))).fromCache, true)
    assert.equal((await front.get(url('/quota'))).fromCache, false)
  })

  test('a body past maxEntrySize is never shown to the filter (it is not stored), and its caller reads it all', async () => {
    let calls = 0
    const { front, url } = await start(
      {
        maxEntrySize: 1000,
        filter: () => {
          calls++
          return true
        },
      },
      { '/big': json(OK), '/small': json({ ok: true }) },
    )
    assert.deepEqual(JSON.parse(await (await front.get(url('/big'))).text()), OK)
    assert.deepEqual(JSON.parse(await (await front.get(url('/small'))).text()), { ok: true })
    assert.equal(calls, 1)
    assert.equal(await front.cache.count(), 1)
  })
})
