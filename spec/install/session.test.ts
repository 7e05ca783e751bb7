import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { InvalidOptionTypeError, InvalidOptionValueError, isFetchCacheError } from '../../lib/errors.js'
import { createCachedFetch } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { DO_NOT_CACHE, EXPIRE_IMMEDIATELY, NEVER_EXPIRE } from '../../lib/options/expire-after.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import { route, type Setup, setup, status, validatedRoute } from '../semantics/fixtures.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

let current: Setup | undefined
afterEach(async () => {
  await current?.close()
  current = undefined
})
async function start(...args: Parameters<typeof setup>): Promise<Setup> {
  current = await setup(...args)
  return current
}

describe('createCachedFetch: hits and misses', () => {
  test('a second GET is served from the cache: the origin is asked once', async () => {
    const { cachedFetch, origin, url } = await start()
    const first = await cachedFetch(url('/a'))
    assert.equal(await first.text(), 'hello /a')
    assert.equal(cacheInfo(first)?.fromCache, false)
    assert.match(status(first), /^fetch-http-cache; fwd=miss; fwd-status=200; stored/)

    const second = await cachedFetch(url('/a'))
    assert.equal(await second.text(), 'hello /a')
    assert.equal(origin.count('/a'), 1)
    assert.equal(cacheInfo(second)?.fromCache, true)
    assert.match(status(second), /^fetch-http-cache; hit/)
  })

  test('a fresh hit does not call the underlying fetch at all', async () => {
    const { cachedFetch, url } = await start()
    const original = globalThis.fetch
    let calls = 0
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      calls++
      return original(...args)
    }) as typeof fetch
    try {
      await (await cachedFetch(url('/a'))).text()
      assert.equal(calls, 1)
      for (let i = 0; i < 3; i++) assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
      assert.equal(calls, 1, 'hits never reach globalThis.fetch')
    } finally {
      globalThis.fetch = original
    }
  })

  test('the entry survives a restart: a new session on the same SQLite file serves it', async () => {
    const setupResult = await start()
    const { cachedFetch, origin, url } = setupResult
    await (await cachedFetch(url('/a'))).text()
    await cachedFetch.cache.close()

    const restarted = setupResult.reopen()
    const response = await restarted(url('/a'))
    assert.equal(await response.text(), 'hello /a')
    assert.equal(cacheInfo(response)?.fromCache, true)
    assert.equal(origin.count('/a'), 1)
  })

  test('a gzip-encoded response is stored and served decoded, as fetch reads it', async () => {
    const text = 'compressed '.repeat(100)
    const { cachedFetch, origin, url } = await start(
      {},
      {
        '/gz': (_req, res) => {
          res.setHeader('content-encoding', 'gzip')
          res.setHeader('content-type', 'text/plain')
          res.end(gzipSync(text))
        },
      },
    )
    assert.equal(await (await cachedFetch(url('/gz'))).text(), text)
    const cached = await cachedFetch(url('/gz'))
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(await cached.text(), text)
    assert.equal(origin.count('/gz'), 1)
  })

  test('a stored gzip response keeps its coding fields for a caller that accepts gzip, not for one that asks identity', async () => {
    const text = 'compressed '.repeat(100)
    const coded = gzipSync(text)
    const { cachedFetch, url } = await start(
      {},
      {
        '/gz': (_req, res) => {
          res.setHeader('content-encoding', 'gzip')
          res.setHeader('content-length', coded.byteLength)
          res.end(coded)
        },
      },
    )
    await (await cachedFetch(url('/gz'))).text()
    const fields = async (acceptEncoding: string | undefined) => {
      const response = await cachedFetch(url('/gz'), acceptEncoding ? { headers: { 'accept-encoding': acceptEncoding } } : {})
      assert.equal(cacheInfo(response)?.fromCache, true)
      assert.equal(await response.text(), text)
      return [response.headers.get('content-encoding'), response.headers.get('content-length')]
    }
    // As fetch gives a gzip response: decoded, its fields as they came.
    assert.deepEqual(await fields(undefined), ['gzip', String(coded.byteLength)])
    assert.deepEqual(await fields('gzip, br'), ['gzip', String(coded.byteLength)])
    // As the origin would have answered it: uncoded.
    for (const refusing of ['identity', 'br', 'gzip;q=0, *;q=1']) {
      assert.deepEqual(await fields(refusing), [null, String(text.length)], refusing)
    }
  })

  test('a caller writing into the chunks it reads does not change what is stored', async () => {
    const { cachedFetch, url } = await start({ backend: 'memory' })
    const reader = ((await cachedFetch(url('/a'))).body as ReadableStream<Uint8Array>).getReader()
    for (let i = 0; i < 10; i++) {
      const { done, value } = await reader.read()
      if (done) break
      value.fill(0)
    }
    const cached = await cachedFetch(url('/a'))
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(await cached.text(), 'hello /a')
  })

  test('a body is stored only once read to the end', async () => {
    const { cachedFetch, origin, url } = await start()
    const first = await cachedFetch(url('/a'))
    await first.body?.cancel()
    await (await cachedFetch(url('/a'))).text()
    assert.equal(origin.count('/a'), 2, 'a cancelled body was not stored')
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
  })
})

describe('createCachedFetch: expireAfter in every form', () => {
  test('seconds: fresh until the number of seconds has passed', async () => {
    const { cachedFetch, origin, clock, url } = await start({ expireAfter: 60 })
    const first = await cachedFetch(url('/a'))
    await first.text()
    const info = cacheInfo(first)
    assert.equal((info?.expires?.getTime() ?? 0) - (info?.createdAt?.getTime() ?? 0), 60 * SECOND)
    clock.advance(59 * SECOND)
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
    clock.advance(2 * SECOND)
    const expired = await cachedFetch(url('/a'))
    await expired.text()
    assert.equal(cacheInfo(expired)?.fromCache, false)
    assert.equal(origin.count('/a'), 2)
  })

  for (const [text, ms] of [
    ['90s', 90 * SECOND],
    ['5m', 5 * MINUTE],
    ['1h30m', HOUR + 30 * MINUTE],
    ['7d', 7 * DAY],
  ] as const) {
    test(`the duration string '${text}' lasts ${ms} ms`, async () => {
      const { cachedFetch, origin, clock, url } = await start({ expireAfter: text })
      const first = await cachedFetch(url('/a'))
      await first.text()
      const info = cacheInfo(first)
      assert.equal((info?.expires?.getTime() ?? 0) - (info?.createdAt?.getTime() ?? 0), ms)
      clock.advance(ms - 1)
      assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
      clock.advance(1)
      await (await cachedFetch(url('/a'))).text()
      assert.equal(origin.count('/a'), 2)
    })
  }

  test('a Date is an absolute expiry', async () => {
    const { cachedFetch, origin, clock, url } = await start()
    const at = new Date(clock.now() + 10 * SECOND)
    cachedFetch.settings.expireAfter = at
    const first = await cachedFetch(url('/a'))
    await first.text()
    assert.equal(cacheInfo(first)?.expires?.getTime(), at.getTime())
    clock.advance(9 * SECOND)
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
    clock.advance(SECOND)
    await (await cachedFetch(url('/a'))).text()
    assert.equal(origin.count('/a'), 2)
  })

  test('NEVER_EXPIRE (the default) keeps serving, with no expiry date', async () => {
    const { cachedFetch, origin, clock, url } = await start({ expireAfter: NEVER_EXPIRE })
    await (await cachedFetch(url('/a'))).text()
    clock.advance(3650 * DAY)
    const later = await cachedFetch(url('/a'))
    assert.equal(cacheInfo(later)?.fromCache, true)
    assert.equal(cacheInfo(later)?.expires, undefined)
    assert.equal(cacheInfo(later)?.isExpired, false)
    assert.equal(origin.count('/a'), 1)
  })

  test('EXPIRE_IMMEDIATELY stores nothing without a validator', async () => {
    const { cachedFetch, origin, url } = await start({ expireAfter: EXPIRE_IMMEDIATELY })
    await (await cachedFetch(url('/a'))).text()
    const second = await cachedFetch(url('/a'))
    await second.text()
    assert.equal(cacheInfo(second)?.fromCache, false)
    assert.equal(origin.count('/a'), 2)
    assert.equal(await cachedFetch.cache.count(), 0)
  })

  test('EXPIRE_IMMEDIATELY stores a response with a validator and revalidates it on every use', async () => {
    const { cachedFetch, origin, url } = await start({ expireAfter: EXPIRE_IMMEDIATELY }, { '/v': validatedRoute() })
    assert.equal(await (await cachedFetch(url('/v'))).text(), 'body v1')
    for (let i = 0; i < 3; i++) {
      const response = await cachedFetch(url('/v'))
      assert.equal(await response.text(), 'body v1')
      assert.equal(cacheInfo(response)?.revalidated, true)
    }
    assert.equal(origin.count('/v'), 4)
    assert.deepEqual(
      origin.requests.map((r) => r.headers['if-none-match']),
      [undefined, '"v1"', '"v1"', '"v1"'],
    )
  })

  test('DO_NOT_CACHE neither reads nor writes', async () => {
    const { cachedFetch, origin, url } = await start()
    await (await cachedFetch(url('/a'))).text()
    cachedFetch.settings.expireAfter = DO_NOT_CACHE
    const skipped = await cachedFetch(url('/a'))
    await skipped.text()
    assert.equal(cacheInfo(skipped)?.fromCache, false, 'the stored entry is not read')
    assert.match(status(skipped), /fwd=bypass/)
    await (await cachedFetch(url('/b'))).text()
    await (await cachedFetch(url('/b'))).text()
    assert.equal(origin.count('/b'), 2, 'nothing is written')
    assert.equal(await cachedFetch.cache.count(), 1)
  })
})

describe('createCachedFetch: what passes through unstored', () => {
  test('a POST passes through (and is never served from the cache)', async () => {
    const { cachedFetch, origin, url } = await start()
    for (let i = 0; i < 2; i++) {
      const response = await cachedFetch(url('/p'), { method: 'POST', body: 'x' })
      await response.text()
      assert.equal(cacheInfo(response)?.fromCache, false)
      assert.match(status(response), /^fetch-http-cache; fwd=method; fwd-status=200$/)
    }
    assert.equal(origin.count('/p'), 2)
    assert.equal(await cachedFetch.cache.count(), 0)
  })

  test('a 404 passes through unstored', async () => {
    const { cachedFetch, origin, url } = await start({}, { '/missing': route('nope', {}, undefined, 404) })
    for (let i = 0; i < 2; i++) {
      const response = await cachedFetch(url('/missing'))
      assert.equal(response.status, 404)
      assert.equal(await response.text(), 'nope')
      assert.match(status(response), /fwd-status=404$/)
    }
    assert.equal(origin.count('/missing'), 2)
  })

  test('a body over maxEntrySize passes through whole and unstored, with or without Content-Length', async () => {
    const big = 'x'.repeat(2048)
    const { cachedFetch, origin, url } = await start(
      { maxEntrySize: 1024 },
      {
        '/sized': route(big),
        '/chunked': (_req, res) => {
          res.setHeader('transfer-encoding', 'chunked')
          res.write(big.slice(0, 1000))
          res.end(big.slice(1000))
        },
      },
    )
    for (const path of ['/sized', '/chunked']) {
      for (let i = 0; i < 2; i++) assert.equal(await (await cachedFetch(url(path))).text(), big)
      assert.equal(origin.count(path), 2, path)
    }
    assert.equal(await cachedFetch.cache.count(), 0)
  })

  for (const backend of ['memory', 'sqlite'] as const) {
    test(`a response larger than the whole ${backend} store (maxSize) is not reported stored, and is not served`, async () => {
      const { subscribe, unsubscribe } = await import('node:diagnostics_channel')
      const storeEvents: unknown[] = []
      const onStore = (message: unknown) => storeEvents.push(message)
      subscribe('fetch-http-cache:store', onStore)
      try {
        const { cachedFetch, origin, url } = await start(
          { backend, maxSize: 2000 },
          { '/big': (_req, res) => void res.end('x'.repeat(3000)) },
        )
        const response = await cachedFetch(url('/big'))
        assert.equal((await response.text()).length, 3000)
        assert.equal(await cacheInfo(response)?.stored, false)
        await cachedFetch.cache.flush()
        assert.equal(cachedFetch.cache.stats().stored, 0)
        assert.deepEqual(storeEvents, [])
        assert.equal(cacheInfo(await cachedFetch(url('/big')))?.fromCache, false)
        assert.equal(origin.count('/big'), 2)
      } finally {
        unsubscribe('fetch-http-cache:store', onStore)
      }
    })
  }

  test('allowableMethods lets a POST be cached, keyed by its body', async () => {
    const { cachedFetch, origin, url } = await start({ allowableMethods: ['GET', 'POST'] })
    const post = (body: string) =>
      cachedFetch(url('/p'), { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    await (await post('{"a":1,"b":2}')).text()
    const same = await post('{"b":2,"a":1}')
    assert.equal(cacheInfo(same)?.fromCache, true, 'JSON bodies are compared with sorted keys')
    await (await post('{"a":2}')).text()
    assert.equal(origin.count('/p'), 2)
  })

  test('allowableCodes lets a 404 be cached', async () => {
    const { cachedFetch, origin, url } = await start(
      { allowableCodes: [200, 404] },
      { '/missing': route('nope', {}, undefined, 404) },
    )
    await (await cachedFetch(url('/missing'))).text()
    const second = await cachedFetch(url('/missing'))
    assert.equal(second.status, 404)
    assert.equal(cacheInfo(second)?.fromCache, true)
    assert.equal(origin.count('/missing'), 1)
  })
})

describe('createCachedFetch: where entries live', () => {
  test("backend 'memory' writes no file and still caches", async () => {
    const { cachedFetch, origin, url, dir } = await start({ backend: 'memory' })
    await (await cachedFetch(url('/a'))).text()
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
    assert.equal(origin.count('/a'), 1)
    assert.equal(existsSync(join(dir, 'cache.sqlite')), false)
  })

  test('cacheName with a path puts the SQLite file there', async () => {
    const { cachedFetch, url, dir } = await start()
    await (await cachedFetch(url('/a'))).text()
    assert.equal(existsSync(join(dir, 'cache.sqlite')), true)
  })

  test('useTemp puts <cacheName>.sqlite in the OS temp directory', async (t) => {
    const origin = await startOrigin()
    const name = `fetch-http-cache-spec-${process.pid}-${Date.now()}`
    const file = join(tmpdir(), `${name}.sqlite`)
    const cachedFetch = createCachedFetch({ cacheName: name, useTemp: true })
    t.after(async () => {
      await cachedFetch.cache.close()
      await origin.close()
      for (const suffix of ['', '-wal', '-shm']) await rm(file + suffix, { force: true })
    })
    await (await cachedFetch(`${origin.url}/a`)).text()
    assert.equal(existsSync(file), true)
    assert.equal(cacheInfo(await cachedFetch(`${origin.url}/a`))?.fromCache, true)
  })
})

describe('createCachedFetch: the user cache directory', () => {
  test('useCacheDir puts <cacheName>.sqlite under $XDG_CACHE_HOME/fetch-http-cache', async (t) => {
    const origin = await startOrigin()
    const { dir, cleanup } = await tempDir()
    const saved = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = dir
    const cachedFetch = createCachedFetch({ cacheName: 'user-cache', useCacheDir: true })
    t.after(async () => {
      await cachedFetch.cache.close()
      if (saved === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = saved
      await origin.close()
      await cleanup()
    })
    await (await cachedFetch(`${origin.url}/a`)).text()
    assert.equal(existsSync(join(dir, 'fetch-http-cache', 'user-cache.sqlite')), true)
  })
})

describe('createCachedFetch: bad options throw a typed error naming the option and value', () => {
  const cases: [string, Record<string, unknown>, typeof InvalidOptionTypeError | typeof InvalidOptionValueError, string][] = [
    ['an unknown option', { expireAftr: 60 }, InvalidOptionValueError, 'expireAftr'],
    ['expireAfter of the wrong type', { expireAfter: true }, InvalidOptionTypeError, 'expireAfter'],
    ['expireAfter out of range', { expireAfter: -5 }, InvalidOptionValueError, 'expireAfter'],
    ['expireAfter, a string that is no duration', { expireAfter: 'tomorrow' }, InvalidOptionValueError, 'expireAfter'],
    ['an invalid Date', { expireAfter: new Date('nope') }, InvalidOptionValueError, 'expireAfter'],
    ['a urlsExpireAfter value', { urlsExpireAfter: { '*': 'soon' } }, InvalidOptionValueError, 'urlsExpireAfter["*"]'],
    ['allowableMethods not an array', { allowableMethods: 'GET' }, InvalidOptionTypeError, 'allowableMethods'],
    ['a status code out of range', { allowableCodes: [200, 700] }, InvalidOptionValueError, 'allowableCodes[1]'],
    ['maxEntrySize negative', { maxEntrySize: -1 }, InvalidOptionValueError, 'maxEntrySize'],
    ['maxEntrySize a string', { maxEntrySize: '1mb' }, InvalidOptionTypeError, 'maxEntrySize'],
    ['cacheControl neither a boolean nor a string', { cacheControl: 1 }, InvalidOptionTypeError, 'cacheControl'],
    ["cacheControl a string other than 'shared'", { cacheControl: 'yes' }, InvalidOptionValueError, 'cacheControl'],
    ['staleIfError a Date', { staleIfError: new Date() }, InvalidOptionValueError, 'staleIfError'],
    ['filter not a function', { filter: 'x' }, InvalidOptionTypeError, 'filter'],
    ['an unknown backend', { backend: 'mongodb' }, InvalidOptionValueError, 'backend'],
    ['an empty cacheName', { cacheName: '' }, InvalidOptionTypeError, 'cacheName'],
    ['useTemp with useCacheDir', { useTemp: true, useCacheDir: true }, InvalidOptionValueError, 'useTemp'],
  ]
  for (const [what, options, kind, option] of cases) {
    test(`${what} → ${kind.name} naming ${option}`, () => {
      assert.throws(
        () => createCachedFetch({ backend: 'memory', ...options } as never),
        (error: unknown) => {
          assert.ok(error instanceof kind, `${String(error)} is a ${kind.name}`)
          assert.ok(isFetchCacheError(error))
          assert.equal((error as InvalidOptionTypeError).code, 'FETCH_HTTP_CACHE_INVALID_OPTION')
          assert.equal((error as InvalidOptionTypeError).option, option)
          assert.ok((error as Error).message.includes(option))
          return true
        },
      )
    })
  }

  test('options that are not an object are refused', () => {
    assert.throws(() => createCachedFetch('memory' as never), InvalidOptionTypeError)
  })

  test('a bad runtime assignment to .settings throws and leaves the setting as it was', async () => {
    const { cachedFetch, origin, url } = await start({ expireAfter: 60 })
    assert.throws(
      () => {
        cachedFetch.settings.expireAfter = 'soonish'
      },
      (error: unknown) => error instanceof InvalidOptionValueError && error.option === 'expireAfter' && error.value === 'soonish',
    )
    assert.throws(
      () => {
        ;(cachedFetch.settings as unknown as Record<string, unknown>).backend = 'memory'
      },
      (error: unknown) => error instanceof InvalidOptionValueError && error.option === 'backend',
    )
    assert.throws(() => {
      ;(cachedFetch.settings as unknown as Record<string, unknown>).readOnly = 1
    }, InvalidOptionTypeError)
    assert.equal(cachedFetch.settings.expireAfter, 60)
    await (await cachedFetch(url('/a'))).text()
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
    assert.equal(origin.count('/a'), 1)
  })

  test('array settings cannot change in place: a push throws, and the rules in force are the ones the settings list', async () => {
    const rules: [string, number][] = [['nomatch.example/', 5]]
    const headers = ['x-a']
    const { cachedFetch, origin, url } = await start({ urlsExpireAfter: rules, matchHeaders: headers })
    const { settings } = cachedFetch
    const urlsExpireAfter = settings.urlsExpireAfter as [string, number][]
    assert.throws(() => urlsExpireAfter.push(['127.0.0.1', DO_NOT_CACHE]), TypeError)
    assert.throws(() => (urlsExpireAfter[0] as [string, number]).splice(1, 1, 0), TypeError)
    assert.throws(() => (settings.matchHeaders as string[]).push('x-b'), TypeError)
    // The caller's own arrays stay theirs: changing them changes nothing the cache does or lists.
    rules.push(['127.0.0.1', DO_NOT_CACHE])
    headers.push('x-b')
    assert.deepEqual(settings.urlsExpireAfter, [['nomatch.example/', 5]])
    assert.deepEqual(settings.matchHeaders, ['x-a'])
    await (await cachedFetch(url('/a'), { headers: { 'x-a': '1', 'x-b': '1' } })).text()
    const again = await cachedFetch(url('/a'), { headers: { 'x-a': '1', 'x-b': '2' } })
    assert.equal(cacheInfo(again)?.fromCache, true, 'x-b is not matched, and 127.0.0.1 is cached')
    assert.equal(origin.count('/a'), 1)
    // Assigned, the same rules are in force.
    settings.matchHeaders = ['x-a', 'x-b']
    assert.equal(cacheInfo(await cachedFetch(url('/a'), { headers: { 'x-a': '1', 'x-b': '3' } }))?.fromCache, false)
  })

  test('a bad per-request cacheOptions rejects with a typed error naming it', async () => {
    const { cachedFetch, origin, url } = await start()
    await assert.rejects(cachedFetch(url('/a'), { cacheOptions: { expireAfter: 'later' } }), (error: unknown) => {
      return error instanceof InvalidOptionValueError && error.option === 'cacheOptions.expireAfter'
    })
    await assert.rejects(cachedFetch(url('/a'), { cacheOptions: { refrsh: true } as never }), (error: unknown) => {
      return error instanceof InvalidOptionValueError && error.option === 'cacheOptions.refrsh'
    })
    await assert.rejects(cachedFetch(url('/a'), { cache: 'sometimes' as never }), (error: unknown) => {
      return error instanceof TypeError && error instanceof InvalidOptionTypeError && error.option === 'cache'
    })
    assert.equal(origin.count(), 0)
  })
})

describe('createCachedFetch: what the caller sees', () => {
  test('a cached response keeps status, statusText, headers, url and redirected', async () => {
    const { cachedFetch, url } = await start(
      { allowableCodes: [200, 203] },
      { '/h': route('data', { 'x-custom': 'yes' }, undefined, 203) },
    )
    const first = await cachedFetch(url('/h'))
    await first.text()
    const cached = await cachedFetch(url('/h'))
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(cached.status, 203)
    assert.equal(cached.statusText, first.statusText)
    assert.equal(cached.headers.get('x-custom'), 'yes')
    assert.equal(cached.headers.get('content-type'), 'text/plain')
    assert.equal(cached.url, url('/h'))
    assert.equal(cached.redirected, false)
    assert.equal(cached.type, first.type)
    assert.equal(cached.ok, true)
  })

  test("a response served from an entry reports the caller's own URL, not the stored one", async () => {
    // Stored URLs hash credential parameters (api_key) and redact ignored ones (ts); the key sorts the query.
    const { cachedFetch, origin, url } = await start({ ignoredParameters: ['ts'] }, { '/q': validatedRoute() })
    await (await cachedFetch(url('/q?api_key=SECRET&b=2&a=1&ts=1'))).text()
    const asked = url('/q?a=1&api_key=SECRET&b=2&ts=2')
    const hit = await cachedFetch(`${asked}#top`)
    assert.equal(cacheInfo(hit)?.fromCache, true)
    assert.equal(hit.url, asked, 'the fragment is not part of it, as with fetch')
    await hit.text()
    // A conditional request the entry satisfies gets a 304 from the cache, with the caller's URL too.
    const notModified = await cachedFetch(asked, { headers: { 'if-none-match': hit.headers.get('etag') ?? '' } })
    assert.equal(notModified.status, 304)
    assert.equal(notModified.url, asked)
    assert.equal(origin.count(), 1)
  })

  test('a redirect is stored under the first URL; the cached response has redirected and the target url', async () => {
    const { cachedFetch, origin, url } = await start(
      {},
      {
        '/start': (_req, res) => {
          res.statusCode = 302
          res.setHeader('location', '/target')
          res.end()
        },
        '/target': route('arrived'),
      },
    )
    const first = await cachedFetch(url('/start'))
    assert.equal(await first.text(), 'arrived')
    assert.equal(first.redirected, true)
    const cached = await cachedFetch(url('/start'))
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(cached.redirected, true)
    assert.equal(cached.url, url('/target'))
    assert.equal(await cached.text(), 'arrived')
    assert.equal(origin.count('/start'), 1)
    assert.equal(origin.count('/target'), 1)
  })

  test('clone() of a cached response keeps url, redirected and cacheInfo, and both bodies read', async () => {
    const { cachedFetch, url } = await start()
    await (await cachedFetch(url('/a'))).text()
    const cached = await cachedFetch(url('/a'))
    const copy = cached.clone()
    assert.equal(copy.url, cached.url)
    assert.equal(copy.redirected, cached.redirected)
    assert.deepEqual(cacheInfo(copy), cacheInfo(cached))
    assert.equal(cacheInfo(copy)?.fromCache, true)
    assert.equal(await copy.text(), 'hello /a')
    assert.equal(await cached.text(), 'hello /a')
  })

  test('clone() of a response fetched through the cache keeps its url and cacheInfo', async () => {
    const { cachedFetch, url } = await start()
    const first = await cachedFetch(url('/a'))
    const copy = first.clone()
    assert.equal(copy.url, url('/a'))
    assert.equal(cacheInfo(copy)?.fromCache, false)
    assert.equal(await copy.text(), 'hello /a')
    assert.equal(await first.text(), 'hello /a')
  })

  test('a cached body streams through getReader(), in several chunks when large', async () => {
    const big = 'y'.repeat(200 * 1024)
    const { cachedFetch, origin, url } = await start({}, { '/big': route(big) })
    await (await cachedFetch(url('/big'))).text()
    const cached = await cachedFetch(url('/big'), { signal: new AbortController().signal })
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(origin.count('/big'), 1)
    const reader = (cached.body as ReadableStream<Uint8Array>).getReader()
    let chunks = 0
    let size = 0
    for (let i = 0; i < 100; i++) {
      const { done, value } = await reader.read()
      if (done) break
      chunks++
      size += value.byteLength
    }
    assert.equal(size, big.length)
    assert.ok(chunks > 1, `streamed in ${chunks} chunks`)
  })

  test("the caller's AbortSignal aborts a cached body mid-read", async () => {
    const big = 'z'.repeat(200 * 1024)
    const { cachedFetch, origin, url } = await start({}, { '/big': route(big) })
    await (await cachedFetch(url('/big'))).text()
    const controller = new AbortController()
    const cached = await cachedFetch(url('/big'), { signal: controller.signal })
    assert.equal(cacheInfo(cached)?.fromCache, true)
    assert.equal(origin.count('/big'), 1)
    const reader = (cached.body as ReadableStream<Uint8Array>).getReader()
    const { value } = await reader.read()
    assert.ok(value && value.byteLength > 0)
    controller.abort()
    await assert.rejects(reader.read(), { name: 'AbortError' })
  })

  test('an already-aborted signal rejects with AbortError, for a hit and for a miss', async () => {
    const { cachedFetch, origin, url } = await start()
    await (await cachedFetch(url('/a'))).text()
    const hit = await cachedFetch(url('/a'))
    assert.equal(cacheInfo(hit)?.fromCache, true, 'the entry the aborted request would hit is there')
    await hit.text()
    await assert.rejects(cachedFetch(url('/a'), { signal: AbortSignal.abort() }), { name: 'AbortError' })
    await assert.rejects(cachedFetch(url('/other'), { signal: AbortSignal.abort() }), { name: 'AbortError' })
    assert.equal(origin.count(), 1)
  })

  test("an init or a signal fetch refuses is refused with fetch's own error, before any request; a null init is none", async (t) => {
    const { cachedFetch, origin, url } = await start()
    // Were one of these to start a request, its end would throw where nothing catches it.
    const stray: unknown[] = []
    const onStray = (error: unknown) => stray.push(error)
    process.on('unhandledRejection', onStray)
    t.after(() => process.off('unhandledRejection', onStray))
    const refused: [string, unknown][] = [
      ['a string signal', { signal: 'nope' }],
      ['an object that looks like a signal', { signal: { aborted: false, addEventListener() {} } }],
      ['a string init', 'text'],
      ['a number init', 42],
    ]
    for (const [what, init] of refused) {
      const before = origin.count()
      const plain = await fetch(url('/a'), init as RequestInit).then(
        async (response) => `${response.status} ${await response.text()}`,
        (error: Error) => error,
      )
      if (typeof plain === 'string') {
        // Node 22's fetch (undici 6) takes an object that looks like a signal: so does the cache, uncached.
        const cached = await cachedFetch(url('/a'), init as RequestInit)
        assert.equal(`${cached.status} ${await cached.text()}`, plain, what)
        assert.equal(origin.count(), before + 2, `${what}: passed to the origin`)
      } else {
        await assert.rejects(cachedFetch(url('/a'), init as RequestInit), { name: plain.name, message: plain.message }, what)
        assert.equal(origin.count(), before, `${what}: no request was made`)
      }
    }
    // null is no init, and `signal: null` is no signal, as fetch takes them.
    const before = origin.count()
    await (await cachedFetch(url('/a'), null as unknown as RequestInit)).text()
    const hit = await cachedFetch(url('/a'), { signal: null })
    assert.equal(cacheInfo(hit)?.fromCache, true)
    await hit.text()
    assert.equal(origin.count(), before + 1)
    assert.deepEqual(stray, [])
  })

  test('signal: null in init drops the signal of the Request it is given with, as fetch does', async () => {
    const { cachedFetch, url } = await start()
    await (await cachedFetch(url('/a'))).text()
    const controller = new AbortController()
    const request = new Request(url('/a'), { signal: controller.signal })
    const response = await cachedFetch(request, { signal: null })
    controller.abort()
    assert.equal(await response.text(), 'hello /a', "the body is not aborted with the Request's signal")
  })

  test('every response that passed through the cache carries Cache-Status', async () => {
    const { cachedFetch, url } = await start({ expireAfter: EXPIRE_IMMEDIATELY }, { '/v': validatedRoute() })
    const seen: string[] = []
    const take = async (response: Response) => {
      seen.push(status(response))
      await response.text()
    }
    await take(await cachedFetch(url('/a')))
    cachedFetch.settings.expireAfter = NEVER_EXPIRE
    await take(await cachedFetch(url('/a')))
    await take(await cachedFetch(url('/a'), { method: 'POST', body: '1' }))
    await take(await cachedFetch(url('/nothing'), { cache: 'only-if-cached' }))
    cachedFetch.settings.expireAfter = EXPIRE_IMMEDIATELY
    await take(await cachedFetch(url('/v')))
    await take(await cachedFetch(url('/v')))
    await take(await cachedFetch(url('/a'), { cache: 'no-store' }))
    assert.deepEqual(seen, [
      'fetch-http-cache; fwd=miss; fwd-status=200',
      'fetch-http-cache; fwd=miss; fwd-status=200; stored',
      'fetch-http-cache; fwd=method; fwd-status=200',
      'fetch-http-cache; fwd=miss; detail=only-if-cached',
      'fetch-http-cache; fwd=miss; fwd-status=200; stored; ttl=0',
      'fetch-http-cache; fwd=stale; fwd-status=304; stored; ttl=0',
      'fetch-http-cache; fwd=bypass; fwd-status=200',
    ])
  })
})

describe('createCachedFetch: .cacheDisabled(fn)', () => {
  test('bypasses the cache inside fn only; concurrent work outside is still cached', async () => {
    const { cachedFetch, origin, url } = await start()
    await (await cachedFetch(url('/a'))).text()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const inside = cachedFetch.cacheDisabled(async () => {
      await gate
      const response = await cachedFetch(url('/a'))
      await response.text()
      return response
    })
    const outside = await cachedFetch(url('/a'))
    assert.equal(cacheInfo(outside)?.fromCache, true)
    release()
    const disabledResponse = await inside
    assert.equal(cacheInfo(disabledResponse), undefined, 'never passed through the cache')
    assert.equal(disabledResponse.headers.get('cache-status'), null)
    assert.equal(origin.count('/a'), 2)
    assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
  })
})
