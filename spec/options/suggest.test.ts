import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type CacheOptions,
  createCachedFetch,
  InvalidOptionValueError,
  installCache,
  isInstalled,
  uninstallCache,
} from '../../lib/index.js'
import { closestName, editDistance } from '../../lib/options/suggest.js'

const NAMES = ['expireAfter', 'urlsExpireAfter', 'staleIfError', 'staleWhileRevalidate', 'maxEntrySize', 'cacheName', 'maxSize']

/** Asserts `fn` throws an `InvalidOptionValueError` for `option` whose message ends with `tail`. */
function throwsNaming(fn: () => unknown, option: string, tail: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidOptionValueError, String(error))
    assert.equal(error.option, option)
    assert.match(error.message, tail)
    return true
  })
}

describe('closestName (the "did you mean" helper)', () => {
  const cases: [string, string | undefined][] = [
    ['expire_after', 'expireAfter'],
    ['EXPIRE_AFTER', 'expireAfter'],
    ['expire-after', 'expireAfter'],
    ['expireAftr', 'expireAfter'],
    ['exipreAfter', 'expireAfter'],
    ['stale_if_eror', 'staleIfError'],
    ['max_size', 'maxSize'],
    ['cachename', 'cacheName'],
    ['timeout', undefined],
    ['expire', undefined],
    ['', undefined],
  ]
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected ?? 'no suggestion'}`, () => {
      assert.equal(closestName(input, NAMES), expected)
    })
  }

  it('editDistance counts an insertion, deletion, substitution or adjacent swap as one', () => {
    assert.equal(editDistance('abc', 'abc'), 0)
    assert.equal(editDistance('abc', 'abxc'), 1)
    assert.equal(editDistance('abc', 'ac'), 1)
    assert.equal(editDistance('abc', 'abd'), 1)
    assert.equal(editDistance('abc', 'acb'), 1)
    assert.equal(editDistance('kitten', 'sitting'), 3)
    assert.equal(editDistance('kitten', 'sitting', 2), 2, 'stops at the limit')
  })
})

describe('a misspelt option suggests the real name', () => {
  it('createCachedFetch({ expire_after })', () => {
    throwsNaming(
      () => createCachedFetch({ expire_after: 360 } as CacheOptions),
      'expire_after',
      /is not a fetch-http-cache option \(did you mean "expireAfter"\?\), got 360$/,
    )
  })

  it('createCachedFetch({ cachename }) suggests a store option too', () => {
    throwsNaming(() => createCachedFetch({ cachename: 'x' } as CacheOptions), 'cachename', /did you mean "cacheName"\?/)
  })

  it('installCache({ staleIfEror }), and nothing is installed', () => {
    throwsNaming(() => installCache({ staleIfEror: true } as CacheOptions), 'staleIfEror', /did you mean "staleIfError"\?/)
    assert.equal(isInstalled(), false)
    uninstallCache()
  })

  it('an unknown name far from every option gets no suggestion', () => {
    throwsNaming(() => createCachedFetch({ timeout: 5 } as CacheOptions), 'timeout', /is not a fetch-http-cache option, got 5$/)
  })

  it('settings.expire_after = 360 on a CachedFetch, and the setting is unchanged', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory', expireAfter: 60 })
    try {
      const settings = cachedFetch.settings as unknown as Record<string, unknown>
      throwsNaming(
        () => {
          settings.expire_after = 360
        },
        'expire_after',
        /is not a setting that can be changed at runtime \(did you mean "expireAfter"\?\), got 360$/,
      )
      assert.equal(cachedFetch.settings.expireAfter, 60)
      assert.equal(settings.expire_after, undefined)
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('settings.cacheName = … says the store is fixed once the cache is made', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    try {
      throwsNaming(
        () => {
          ;(cachedFetch.settings as unknown as Record<string, unknown>).cacheName = 'other'
        },
        'cacheName',
        /chooses the store, which is fixed when the cache is created/,
      )
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('a per-request cacheOptions.expire_after', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    try {
      await assert.rejects(
        cachedFetch('http://127.0.0.1:9/never-sent', { cacheOptions: { expire_after: 5 } as never }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionValueError, String(error))
          assert.equal(error.option, 'cacheOptions.expire_after')
          assert.match(error.message, /is not a per-request cache option \(did you mean "expireAfter"\?\)/)
          return true
        },
      )
    } finally {
      await cachedFetch.cache.close()
    }
  })
})
