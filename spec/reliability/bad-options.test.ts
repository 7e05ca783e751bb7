import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type CacheOptions,
  createCachedFetch,
  enabled,
  FetchCacheError,
  InvalidOptionTypeError,
  InvalidOptionValueError,
  installCache,
  isFetchCacheError,
  isInstalled,
  MemoryStore,
  type RequestCacheOptions,
  StoreError,
} from '../../lib/index.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * Bad input (issue 8): every option, given a wrong type or an out-of-range value, is
 * refused when the cache is made, with a typed error naming the option and the value.
 */

type Bad = { type?: unknown[]; range?: unknown[] }

const notBoolean: Bad = { type: ['true', 1, 0, null, {}, [], () => true] }
const notFunction: Bad = { type: ['fn', 1, null, {}, true, []] }
const notPositiveInteger: Bad = {
  type: ['1024', null, true, {}, [], 10n],
  range: [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2],
}
const notExpireAfter: Bad = {
  type: [true, null, {}, [], () => 60, 10n, Symbol('soon')],
  range: [
    -3,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    'soon',
    '',
    '5 parsecs',
    '-5m',
    new Date(Number.NaN),
  ],
}
const notStaleLimit: Bad = {
  type: [null, {}, [], () => 1],
  range: ['later', -5, Number.NaN, new Date(0)],
}
const notStringList: Bad = { type: ['GET', 1, null, {}, [1], [''], [null], new Set(['GET'])] }

/**
 * Every option, and values it must refuse. The compiler keeps the table complete: an option added
 * to CacheOptions and missing here fails the type check.
 */
const BAD: { [K in keyof CacheOptions]-?: Bad } = {
  expireAfter: notExpireAfter,
  urlsExpireAfter: {
    type: ['*.json', 5, null, true, [['pattern']], [['a', 1, 2]], ['a'], [[5, 10]], [[null, 10]], /regex/],
    range: [{ 'example.com/*': 'soon' }, [['example.com/*', -7]], { '': 10 }, [[/x/, 'x']]],
  },
  cacheControl: notBoolean,
  allowableMethods: notStringList,
  allowableCodes: { type: [200, '200', null, {}], range: [[99], [600], [200.5], ['200'], [Number.NaN], [200, -1]] },
  filter: notFunction,
  matchHeaders: { type: ['accept', 1, null, {}, [2], [''], [null]], range: [['x header'], ['accept', 'bad:name'], ['é']] },
  ignoredParameters: notStringList,
  credentialHeaders: { type: ['x-api-key', 1, null, {}, [2], [null]], range: [['x api key'], ['x-api-key', 'bad:name'], ['é']] },
  credentialParameters: notStringList,
  keyFn: notFunction,
  staleIfError: notStaleLimit,
  staleWhileRevalidate: notStaleLimit,
  alwaysRevalidate: notBoolean,
  onlyIfCached: { type: [1, null, {}, []], range: ['yes', 'throws', ''] },
  forceRefresh: notBoolean,
  tagHeaders: { type: ['cache-tag', 1, null, {}, [2], [null]], range: [['cache tag'], ['cache-tag', 'bad:name']] },
  readOnly: notBoolean,
  disabled: notBoolean,
  coalesce: notBoolean,
  maxEntrySize: notPositiveInteger,
  onError: notFunction,
  backend: { type: [1, null, true, {}, [], { get() {} }], range: ['SQLite', 'Redis', 'file', ''] },
  // Refused here because the backend is not 'redis'; spec/stores/redis-options.test.ts checks each field.
  redis: { type: [5, true, [], null], range: ['redis://localhost:6379', {}] },
  cacheName: { type: [5, null, true, {}, []], range: [''] },
  useCacheDir: notBoolean,
  useTemp: notBoolean,
  maxSize: notPositiveInteger,
  // Past 2^24 the memory store would reserve gigabytes up front; at 2^32 lru-cache throws a plain RangeError.
  maxEntries: {
    ...notPositiveInteger,
    range: [...(notPositiveInteger.range ?? []), 2 ** 24 + 1, 2 ** 32, Number.MAX_SAFE_INTEGER],
  },
}

/** A value each option accepts: the refusals above are about the values, not the option. */
const GOOD: { [K in keyof CacheOptions]-?: unknown } = {
  expireAfter: '1h30m',
  urlsExpireAfter: [[/\/static\//, -1]],
  cacheControl: true,
  allowableMethods: ['GET', 'POST'],
  allowableCodes: [200, 404],
  filter: () => true,
  matchHeaders: ['accept'],
  ignoredParameters: ['token'],
  credentialHeaders: ['x-api-key'],
  credentialParameters: ['tenant_secret'],
  keyFn: (request: { defaultKey: string }) => request.defaultKey,
  staleIfError: '1d',
  staleWhileRevalidate: true,
  alwaysRevalidate: true,
  onlyIfCached: 'throw',
  forceRefresh: true,
  tagHeaders: ['x-tags'],
  readOnly: true,
  disabled: false,
  coalesce: false,
  maxEntrySize: 1024,
  onError: () => {},
  backend: 'memory',
  redis: undefined, // only with backend: 'redis' (spec/stores/redis-options.test.ts)
  cacheName: ':memory:',
  useCacheDir: false,
  useTemp: true,
  maxSize: 1024 * 1024,
  maxEntries: 10,
}

/** How a value shows in a test name. */
function show(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return String(value)
  if (value instanceof Date) return `Date(${value.getTime()})`
  if (value instanceof RegExp || value instanceof Set) return String(value)
  if (typeof value === 'number') return String(value)
  return JSON.stringify(value) ?? String(value)
}

/** A typed fetch-http-cache error naming `option` (or one of its items, `option[i]`, `option["glob"]`). */
function namesOption(option: string) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidOptionTypeError || error instanceof InvalidOptionValueError, `got ${String(error)}`)
    assert.ok(error instanceof TypeError || error instanceof RangeError)
    assert.equal(error.code, 'FETCH_HTTP_CACHE_INVALID_OPTION')
    assert.ok(isFetchCacheError(error))
    assert.ok(error instanceof FetchCacheError, 'instanceof FetchCacheError, as the README says of every error')
    assert.ok(!(error instanceof StoreError), 'a subclass matches its own instances only')
    assert.ok(error.option === option || error.option.startsWith(`${option}[`), `names ${error.option}, not ${option}`)
    assert.ok(error.message.includes(error.option), 'the message names the option')
    return true
  }
}

// A memory backend, so a value wrongly accepted never leaves a file behind.
const base: CacheOptions = { backend: 'memory' }
const SQLITE_ONLY = new Set(['cacheName', 'useCacheDir', 'useTemp'])

describe('every option refuses wrong types and out-of-range values at creation, naming itself', () => {
  for (const [option, { type = [], range = [] }] of Object.entries(BAD)) {
    for (const [kind, values] of [
      ['wrong type', type],
      ['out of range', range],
    ] as const) {
      for (const value of values) {
        it(`${option}: ${kind} ${show(value)}`, () => {
          assert.throws(() => createCachedFetch({ ...base, [option]: value }), namesOption(option))
        })
      }
    }
  }

  it('while accepting a good value for each', () => {
    for (const [option, value] of Object.entries(GOOD)) {
      // The SQLite file's options on an in-memory SQLite database, the others on the memory backend.
      const backend: CacheOptions = SQLITE_ONLY.has(option) ? { backend: 'sqlite', cacheName: ':memory:' } : base
      assert.doesNotThrow(() => createCachedFetch({ ...backend, [option]: value }), option)
    }
  })

  it('an unknown option, and options that are not an object', () => {
    assert.throws(() => createCachedFetch({ ...base, expireafter: 5 } as CacheOptions), namesOption('expireafter'))
    for (const options of ['memory', 5, [], null, true]) {
      assert.throws(() => createCachedFetch(options as unknown as CacheOptions), namesOption('options'))
    }
  })

  it('useTemp together with useCacheDir', () => {
    assert.throws(() => createCachedFetch({ ...base, useTemp: true, useCacheDir: true }), namesOption('useTemp'))
  })

  it('installCache() and enabled() refuse them too, before touching any global', async () => {
    const fetchBefore = globalThis.fetch
    assert.throws(() => installCache({ ...base, expireAfter: 'soon' }), namesOption('expireAfter'))
    assert.equal(isInstalled(), false)
    assert.equal(globalThis.fetch, fetchBefore)
    await assert.rejects(
      enabled(() => 1, { ...base, maxEntrySize: -1 }),
      namesOption('maxEntrySize'),
    )
    assert.equal(globalThis.fetch, fetchBefore)
  })
})

describe('a store option the backend would ignore is refused the same way for every backend', () => {
  const store = new MemoryStore()
  const cases: [CacheOptions, string][] = [
    [{ backend: 'memory', cacheName: 'x' }, 'cacheName'],
    [{ backend: 'memory', useTemp: true }, 'useTemp'],
    [{ backend: 'memory', useCacheDir: false }, 'useCacheDir'],
    [{ backend: 'memory', redis: 'redis://127.0.0.1:1' }, 'redis'],
    [{ backend: 'sqlite', maxEntries: 10 }, 'maxEntries'],
    [{ cacheName: ':memory:', redis: 'redis://127.0.0.1:1' }, 'redis'],
    [{ backend: 'redis', cacheName: 'x' }, 'cacheName'],
    [{ backend: 'redis', useTemp: true }, 'useTemp'],
    [{ backend: 'redis', maxSize: 1024 }, 'maxSize'],
    [{ backend: 'redis', maxEntries: 10 }, 'maxEntries'],
    [{ backend: store, cacheName: 'x' }, 'cacheName'],
    [{ backend: store, maxSize: 1024 }, 'maxSize'],
    [{ backend: store, maxEntries: 10 }, 'maxEntries'],
  ]
  for (const [options, option] of cases) {
    const backend = typeof options.backend === 'object' ? 'a Store instance' : (options.backend ?? 'sqlite (the default)')
    it(`${option} with backend ${backend}`, () => {
      assert.throws(
        () => createCachedFetch(options),
        (error: unknown) => {
          namesOption(option)(error)
          assert.match((error as Error).message, /applies only with backend: /)
          return true
        },
      )
    })
  }
  it('installCache() and enabled() refuse them the same way', async () => {
    assert.throws(() => installCache({ backend: 'memory', cacheName: 'x' }), namesOption('cacheName'))
    assert.equal(isInstalled(), false)
    await assert.rejects(
      enabled(() => 1, { backend: 'memory', useTemp: true }),
      namesOption('useTemp'),
    )
  })
})

describe('messages describe the value readably', () => {
  const message = (options: unknown) => {
    try {
      createCachedFetch(options as CacheOptions)
    } catch (error) {
      return (error as Error).message
    }
    assert.fail('accepted')
  }
  it('an object by its kind and keys, never "[object Object]" and never its values', () => {
    assert.match(message({ backend: {} }), /got an empty object \{\}$/)
    assert.match(message({ backend: { get() {}, secret: 'hunter2' } }), /got an object with keys get, secret$/)
    assert.match(message({ backend: new Map() }), /got a Map object$/)
    for (const options of [{ backend: {} }, { matchHeaders: {} }, { expireAfter: { seconds: 5 } }]) {
      assert.doesNotMatch(message({ backend: 'memory', ...options }), /\[object /)
    }
  })
  it('matchHeaders names each value it accepts, true included', () => {
    assert.match(
      message({ backend: 'memory', matchHeaders: 'accept' }),
      /"matchHeaders" must be true, false or an array of header names, got "accept"/,
    )
  })
})

describe('settings changed at runtime refuse bad values the same way, and keep the old one', () => {
  const cachedFetch = createCachedFetch(base)
  const settings = cachedFetch.settings as unknown as Record<string, unknown>
  const runtime = Object.entries(BAD).filter(([option]) => option in settings)
  it('covers every setting', () => {
    assert.deepEqual(runtime.map(([option]) => option).sort(), Object.keys(settings).sort())
  })
  for (const [option, { type = [], range = [] }] of runtime) {
    it(`${option}`, () => {
      const kept = settings[option]
      for (const value of [...type, ...range]) {
        assert.throws(() => {
          settings[option] = value
        }, namesOption(option))
        assert.throws(() => Object.defineProperty(settings, option, { value }), namesOption(option))
        assert.equal(settings[option], kept)
      }
    })
  }
  it('Object.defineProperty is a write like any other: validated, applied, never a getter', () => {
    Object.defineProperty(settings, 'expireAfter', { value: '5m' })
    assert.equal(settings.expireAfter, '5m')
    assert.throws(
      () => Object.defineProperty(settings, 'notAnOption', { value: 1, enumerable: true }),
      namesOption('notAnOption'),
    )
    assert.throws(() => Object.defineProperty(settings, 'expireAfter', { get: () => 60 }), namesOption('expireAfter'))
    assert.equal(Object.keys(settings).includes('notAnOption'), false)
  })
  it('store options cannot be changed at runtime', () => {
    assert.throws(() => {
      settings.backend = 'sqlite'
    }, namesOption('backend'))
  })
})

describe('per-request cacheOptions refuse bad values with a typed error, and the request is not sent', () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin()
  })
  after(() => origin.close())

  const BAD_REQUEST: { [K in keyof RequestCacheOptions]-?: unknown[] } = {
    expireAfter: [...(notExpireAfter.type ?? []), ...(notExpireAfter.range ?? [])],
    // 'shared' is the cache's own setting, not a request's.
    cacheControl: [...(notBoolean.type ?? []), 'shared'],
    onlyIfCached: notBoolean.type ?? [],
    refresh: notBoolean.type ?? [],
    forceRefresh: notBoolean.type ?? [],
    staleIfError: [...(notStaleLimit.type ?? []), ...(notStaleLimit.range ?? [])],
    staleWhileRevalidate: [...(notStaleLimit.type ?? []), ...(notStaleLimit.range ?? [])],
  }
  const cachedFetch = createCachedFetch(base)
  for (const [option, values] of Object.entries(BAD_REQUEST)) {
    it(option, async () => {
      for (const value of values) {
        await assert.rejects(
          cachedFetch(`${origin.url}/x`, { cacheOptions: { [option]: value } }),
          namesOption(`cacheOptions.${option}`),
        )
      }
      assert.equal(origin.count(), 0)
    })
  }
  it('an unknown per-request option, and cacheOptions that are not an object', async () => {
    await assert.rejects(
      cachedFetch(`${origin.url}/x`, { cacheOptions: { expire: 5 } as RequestCacheOptions }),
      namesOption('cacheOptions.expire'),
    )
    await assert.rejects(
      cachedFetch(`${origin.url}/x`, { cacheOptions: 'refresh' as RequestCacheOptions }),
      namesOption('cacheOptions'),
    )
    assert.equal(origin.count(), 0)
  })
})
