import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, test } from 'node:test'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { REDACTED } from '../../lib/request/key.js'
import { forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { startPerTest, startPerTestOn, storedEntries } from './fixtures.js'

/** Answers with the request's Accept / Accept-Language, and `Vary` as given. */
function negotiating(vary: string): Route {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('vary', vary)
    res.setHeader('content-type', 'text/plain')
    res.end(`${req.headers.accept} ${req.headers['accept-language']}`)
  }
}

forEachFront('matching', (kind) => {
  const start = startPerTestOn(kind)

  test('Vary naming constructor or __proto__ (Object.prototype members) is a header like any other', async () => {
    const routes = {
      '/v': (req: IncomingMessage, res: ServerResponse) => {
        res.setHeader('vary', 'Constructor, __proto__')
        res.end(`for ${Object.hasOwn(req.headers, 'constructor') ? req.headers.constructor : 'none'}`)
      },
    }
    const { front, origin, url } = await start({}, routes)
    assert.equal(await (await front.get(url('/v'))).text(), 'for none')
    const hit = await front.get(url('/v'))
    assert.equal(await hit.text(), 'for none')
    assert.equal(hit.fromCache, true)
    const other = await front.get(url('/v'), { headers: { constructor: 'x' } })
    assert.equal(await other.text(), 'for x')
    assert.equal(other.fromCache, false)
    assert.equal(origin.count('/v'), 2)
  })

  describe('matchHeaders', () => {
    test('true: requests with different headers get different entries (test_match_headers)', async () => {
      const { front, origin, url } = await start({ matchHeaders: true })
      for (const headers of [{ accept: 'application/json' }, { accept: 'text/xml' }, {}]) {
        await (await front.get(url('/a'), { headers })).text()
        assert.equal((await front.get(url('/a'), { headers })).fromCache, true, JSON.stringify(headers))
      }
      assert.equal(origin.count('/a'), 3)
    })

    test('a list: only the named headers count (test_match_headers__list)', async () => {
      const { front, origin, url } = await start({ matchHeaders: ['Accept'] })
      await (await front.get(url('/a'), { headers: { accept: 'application/json', 'user-agent': 'qutebrowser' } })).text()
      assert.equal(
        (await front.get(url('/a'), { headers: { accept: 'application/json', 'user-agent': 'Firefox' } })).fromCache,
        true,
      )
      const other = await front.get(url('/a'), { headers: { accept: 'text/plain', 'user-agent': 'qutebrowser' } })
      await other.text()
      assert.equal(other.fromCache, false)
      assert.equal(origin.count('/a'), 2)
    })
  })

  describe('Vary', () => {
    test('several variants of one URL are stored side by side', async () => {
      const { front, origin, url } = await start({}, { '/n': negotiating('Accept, Accept-Language') })
      const variants = [
        { accept: 'application/json', 'accept-language': 'en' },
        { accept: 'text/html', 'accept-language': 'en' },
        { accept: 'application/json', 'accept-language': 'fr' },
      ]
      for (const headers of variants)
        assert.equal(await (await front.get(url('/n'), { headers })).text(), `${headers.accept} ${headers['accept-language']}`)
      for (const headers of variants) {
        const response = await front.get(url('/n'), { headers })
        assert.equal(response.fromCache, true)
        assert.equal(await response.text(), `${headers.accept} ${headers['accept-language']}`)
      }
      assert.equal(origin.count('/n'), 3)
      assert.equal((await storedEntries(front)).length, 3)
    })

    test('Vary: * never matches: it is never stored', async () => {
      const { front, origin, url } = await start({}, { '/star': negotiating('*') })
      for (let i = 0; i < 3; i++) await (await front.get(url('/star'))).text()
      assert.equal(origin.count('/star'), 3)
      assert.equal(await front.cache.count(), 0)
    })
  })

  describe('ignoredParameters', () => {
    test('query parameters: left out of the key, REDACTED in the stored URLs', async () => {
      const { front, origin, url } = await start({ ignoredParameters: ['api_key'] })
      await (await front.get(url('/q?x=1&api_key=secret-one'))).text()
      const hit = await front.get(url('/q?api_key=secret-two&x=1'))
      assert.equal(hit.fromCache, true)
      assert.equal(origin.count(), 1)
      const [entry] = await storedEntries(front)
      assert.equal(entry?.url, url(`/q?x=1&api_key=${REDACTED}`))
      assert.equal(entry?.responseUrl, url(`/q?x=1&api_key=${REDACTED}`))
      assert.ok(!JSON.stringify(entry).includes('secret-one'))
    })

    test('JSON and form body fields: left out of the key', async () => {
      const { front, origin, url } = await start({ allowableMethods: ['GET', 'POST'], ignoredParameters: ['nonce'] })
      const post = (body: string, type: string) =>
        front.get(url('/p'), { method: 'POST', body, headers: { 'content-type': type } })
      await (await post('{"q":1,"nonce":"a"}', 'application/json')).text()
      assert.equal((await post('{"nonce":"b","q":1}', 'application/json')).fromCache, true)
      await (await post('q=1&nonce=a', 'application/x-www-form-urlencoded')).text()
      assert.equal((await post('nonce=b&q=1', 'application/x-www-form-urlencoded')).fromCache, true)
      assert.equal(origin.count('/p'), 2)
    })

    test('headers: left out of the key, REDACTED in the stored request headers', async () => {
      const { front, origin, url } = await start({ matchHeaders: true, ignoredParameters: ['X-Api-Key'] })
      await (await front.get(url('/h'), { headers: { 'x-api-key': 'key-one' } })).text()
      assert.equal((await front.get(url('/h'), { headers: { 'x-api-key': 'key-two' } })).fromCache, true)
      assert.equal(origin.count('/h'), 1)
      assert.equal(origin.requests[0]?.headers['x-api-key'], 'key-one', 'the origin still gets the real value')
      const [entry] = await storedEntries(front)
      assert.equal(entry?.requestHeaders['x-api-key'], REDACTED)
    })
  })

  describe('keyFn', () => {
    test('a custom key function decides what is the same request (test_key_fn)', async () => {
      const { front, origin, url } = await start({ keyFn: (request) => request.url.split('?')[0] as string })
      await (await front.get(url('/k'))).text()
      assert.equal((await front.get(url('/k?v=1'))).fromCache, true)
      assert.equal(origin.count(), 1)
    })

    test('a keyFn that throws sends the request to the origin and reports the error', async () => {
      const errors: Error[] = []
      const { front, url } = await start({
        keyFn: () => {
          throw new Error('no key')
        },
        onError: (error) => errors.push(error),
      })
      assert.equal(await (await front.get(url('/k'))).text(), 'hello /k')
      assert.equal(errors.length, 1)
    })
  })
})

describe('matching [fetch only]', () => {
  const start = startPerTest()

  test("a header the Vary names and the request lacks matches fetch's default value", async () => {
    const { cachedFetch, origin, url } = await start({}, { '/n': negotiating('Accept') })
    await (await cachedFetch(url('/n'))).text()
    assert.equal(cacheInfo(await cachedFetch(url('/n'), { headers: { accept: '*/*' } }))?.fromCache, true)
    await (await cachedFetch(url('/n'), { headers: { accept: 'text/html' } })).text()
    assert.equal(origin.count('/n'), 2)
  })

  test("ignoredParameters: the stored URL has them REDACTED; a hit's response.url is the caller's own", async () => {
    const { cachedFetch, url } = await start({ ignoredParameters: ['api_key'] })
    await (await cachedFetch(url('/q?x=1&api_key=secret-one'))).text()
    const hit = await cachedFetch(url('/q?api_key=secret-two&x=1'))
    assert.equal(cacheInfo(hit)?.fromCache, true)
    assert.equal(hit.url, url('/q?api_key=secret-two&x=1'))
    assert.deepEqual(await cachedFetch.cache.urls(), [url(`/q?x=1&api_key=${REDACTED}`)])
  })
})
