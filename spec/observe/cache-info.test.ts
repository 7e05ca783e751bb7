import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type Cache,
  cacheInfo,
  createCachedFetch,
  type FetchFunction,
  getCache,
  installCache,
  uninstallCache,
} from '../../lib/index.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * `cacheInfo(response).cacheKey` is the key the request is looked up and stored under, known from the
 * start: on a miss it is there before the body has arrived, and it is the key the entry then has.
 * Through the fetch front both ways a caller reaches it: a `createCachedFetch()` function and the
 * global `fetch` that `installCache()` patches. (undici's `ResponseData` carries no `cacheInfo`.)
 */

const KEY = /^[0-9a-f]{64}$/

interface FetchKind {
  name: string
  open(): { fetch: FetchFunction; cache: Cache; close(): Promise<void> }
}

const KINDS: FetchKind[] = [
  {
    name: 'createCachedFetch()',
    open() {
      const cachedFetch = createCachedFetch({ backend: 'memory' })
      return { fetch: cachedFetch, cache: cachedFetch.cache, close: () => cachedFetch.cache.close() }
    },
  },
  {
    name: 'the global fetch installCache() patches',
    open() {
      installCache({ backend: 'memory' })
      return {
        fetch: (input, init) => globalThis.fetch(input, init),
        cache: getCache() as Cache,
        close: async () => uninstallCache(),
      }
    },
  },
]

/** The keys the cache holds, in no order. */
async function storedKeys(cache: Cache): Promise<string[]> {
  const keys: string[] = []
  for await (const item of cache.responses()) keys.push(item.key)
  return keys
}

for (const kind of KINDS) {
  describe(`cacheInfo(response).cacheKey through ${kind.name}`, () => {
    let origin: Origin
    /** Releases the held body of `/slow`. */
    let release: () => void = () => {}
    before(async () => {
      origin = await startOrigin({
        '/slow': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.write('first part, ')
          return new Promise<void>((resolve) => {
            release = () => {
              res.end('the rest')
              resolve()
            }
          })
        },
        '/gone': (_req, res) => {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not here')
        },
        '/vary': (req, res) => {
          res.writeHead(200, { vary: 'accept-language', 'content-type': 'text/plain' })
          res.end(`in ${req.headers['accept-language']}`)
        },
      })
    })
    after(() => origin.close())

    it('is set on a miss before the body has arrived, and is the key the entry is then stored under', async (t) => {
      const cache = kind.open()
      t.after(() => cache.close())
      const first = await cache.fetch(`${origin.url}/slow`)
      const info = cacheInfo(first)
      assert.equal(info?.fromCache, false)
      const key = info?.cacheKey
      assert.match(key ?? '', KEY)
      assert.deepEqual(await storedKeys(cache.cache), [], 'nothing is stored yet')
      release()
      assert.equal(await first.text(), 'first part, the rest')
      assert.equal(await info?.stored, true)
      assert.deepEqual(await storedKeys(cache.cache), [key])
      const hit = await cache.fetch(`${origin.url}/slow`)
      assert.equal(cacheInfo(hit)?.fromCache, true)
      assert.equal(cacheInfo(hit)?.cacheKey, key)
      assert.equal(origin.count('/slow'), 1)
    })

    it("with Vary, is the variant's key from the start", async (t) => {
      const cache = kind.open()
      t.after(() => cache.close())
      const keys: string[] = []
      for (const language of ['en', 'fr']) {
        const response = await cache.fetch(`${origin.url}/vary`, { headers: { 'accept-language': language } })
        keys.push(cacheInfo(response)?.cacheKey ?? '')
        assert.equal(await cacheInfo(response)?.stored, true)
        await response.text()
      }
      assert.notEqual(keys[0], keys[1])
      assert.deepEqual((await storedKeys(cache.cache)).sort(), [...keys].sort())
      const hit = await cache.fetch(`${origin.url}/vary`, { headers: { 'accept-language': 'fr' } })
      assert.equal(cacheInfo(hit)?.fromCache, true)
      assert.equal(cacheInfo(hit)?.cacheKey, keys[1])
      assert.equal(origin.count('/vary'), 2)
    })

    it('is set on an only-if-cached miss (a 504) and on an answer not stored; not when the cache stays out', async (t) => {
      const cache = kind.open()
      t.after(() => cache.close())
      const missed = await cache.fetch(`${origin.url}/later`, { cache: 'only-if-cached' })
      assert.equal(missed.status, 504)
      const key = cacheInfo(missed)?.cacheKey
      assert.match(key ?? '', KEY)
      const stored = await cache.fetch(`${origin.url}/later`)
      await stored.text()
      assert.equal(cacheInfo(stored)?.cacheKey, key)
      assert.deepEqual(await storedKeys(cache.cache), [key])

      const notFound = await cache.fetch(`${origin.url}/gone`)
      await notFound.text()
      assert.equal(notFound.status, 404)
      assert.equal(await cacheInfo(notFound)?.stored, false)
      assert.match(cacheInfo(notFound)?.cacheKey ?? '', KEY)
      assert.notEqual(cacheInfo(notFound)?.cacheKey, key)

      const bypassed = await cache.fetch(`${origin.url}/later`, { cache: 'no-store' })
      await bypassed.text()
      assert.equal(cacheInfo(bypassed)?.cacheKey, undefined)
      assert.equal(origin.count('/later'), 2)
    })
  })
}
