import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { InvalidOptionTypeError, InvalidOptionValueError, isFetchCacheError } from '../../lib/errors.js'
import { createCachedFetch } from '../../lib/install/session.js'
import { REDIS_DEFAULTS } from '../../lib/options/redis.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { RedisStore, type RedisStoreOptions } from '../../lib/stores/redis.js'
import { assertRedisInstalled } from '../../lib/stores/redis-client.js'
import { ROOT } from '../helpers/children.js'

/**
 * The Redis options, refused with a typed error naming the field and the value, at creation, before
 * any connection; and the Redis backend without the `redis` package. No server needed.
 */

/** Nothing listens on port 1: a store made in these tests never reaches a server. */
const NOWHERE = 'redis://127.0.0.1:1'

function namesOption(option: string, type: typeof InvalidOptionTypeError | typeof InvalidOptionValueError) {
  return (error: unknown) => {
    assert.ok(error instanceof type, `got ${String(error)}`)
    assert.equal(error.option, option)
    assert.equal(error.code, 'FETCH_HTTP_CACHE_INVALID_OPTION')
    assert.ok(error.message.includes(option))
    return true
  }
}

const BAD: [string, Record<string, unknown>, typeof InvalidOptionTypeError | typeof InvalidOptionValueError][] = [
  ['url', { url: 6379 }, InvalidOptionTypeError],
  ['url', { url: 'http://localhost:6379' }, InvalidOptionValueError],
  ['url', { url: 'localhost:6379' }, InvalidOptionValueError],
  ['url', { url: 'redis://' }, InvalidOptionValueError],
  ['client', { client: {} }, InvalidOptionTypeError],
  ['client', { client: 'redis://localhost' }, InvalidOptionTypeError],
  ['client', { client: clusterLike() }, InvalidOptionValueError],
  ['prefix', { prefix: 5 }, InvalidOptionTypeError],
  ['prefix', { prefix: '' }, InvalidOptionValueError],
  ['commandTimeout', { commandTimeout: '500' }, InvalidOptionTypeError],
  ['commandTimeout', { commandTimeout: 0 }, InvalidOptionValueError],
  ['commandTimeout', { commandTimeout: 1.5 }, InvalidOptionValueError],
  ['commandTimeout', { commandTimeout: Number.POSITIVE_INFINITY }, InvalidOptionValueError],
  ['commandTimeout', { commandTimeout: 2 ** 31 }, InvalidOptionValueError],
  ['connectTimeout', { connectTimeout: -1 }, InvalidOptionValueError],
  ['grace', { grace: -1 }, InvalidOptionValueError],
  ['grace', { grace: Number.NaN }, InvalidOptionValueError],
  ['grace', { grace: 'a while' }, InvalidOptionValueError],
  ['grace', { grace: new Date() }, InvalidOptionTypeError],
  ['ttl', { ttl: 60 }, InvalidOptionValueError],
]

describe('RedisStore options', () => {
  for (const [option, options, type] of BAD) {
    it(`refuses ${option}: ${JSON.stringify(options[option]) ?? String(options[option])}`, () => {
      assert.throws(() => new RedisStore(options as RedisStoreOptions), namesOption(option, type))
    })
  }

  it('refuses an onError or a clock that is not a function, and options that are not an object', () => {
    assert.throws(() => new RedisStore({ url: NOWHERE, onError: 'log' as never }), namesOption('onError', InvalidOptionTypeError))
    assert.throws(() => new RedisStore({ url: NOWHERE, now: 5 as never }), namesOption('now', InvalidOptionTypeError))
    assert.throws(() => new RedisStore(null as never), namesOption('options', InvalidOptionTypeError))
  })

  it('has the documented defaults', () => {
    assert.deepEqual(
      { ...REDIS_DEFAULTS },
      {
        url: 'redis://localhost:6379',
        prefix: 'fetch-http-cache:',
        commandTimeout: 500,
        connectTimeout: 2000,
        grace: 86_400,
      },
    )
  })
})

describe("backend: 'redis' in the cache options", () => {
  for (const [option, options, type] of BAD) {
    it(`refuses redis.${option} when the cache is created`, () => {
      assert.throws(
        () => createCachedFetch({ backend: 'redis', redis: options } as CacheOptions),
        namesOption(`redis.${option}`, type),
      )
    })
  }

  it('refuses redis options that are neither an object nor a URL', () => {
    for (const value of [5, true, [], null]) {
      assert.throws(
        () => createCachedFetch({ backend: 'redis', redis: value } as unknown as CacheOptions),
        namesOption('redis', InvalidOptionTypeError),
      )
    }
  })

  it('refuses maxSize and maxEntries, which the server bounds (maxmemory), and redis options for another backend', () => {
    assert.throws(() => createCachedFetch({ backend: 'redis', maxSize: 1024 }), namesOption('maxSize', InvalidOptionValueError))
    assert.throws(
      () => createCachedFetch({ backend: 'redis', maxEntries: 10 }),
      namesOption('maxEntries', InvalidOptionValueError),
    )
    assert.throws(() => createCachedFetch({ backend: 'memory', redis: NOWHERE }), namesOption('redis', InvalidOptionValueError))
  })

  it('accepts a URL alone, or the options object, and closes the store it made', async () => {
    for (const redis of [NOWHERE, { url: NOWHERE, prefix: 'p:', commandTimeout: 50, connectTimeout: 50, grace: '1h' }]) {
      const cachedFetch = createCachedFetch({ backend: 'redis', redis, onError: () => {} })
      assert.ok(cachedFetch.cache.store instanceof RedisStore)
      await cachedFetch.cache.close()
    }
  })
})

describe('cacheControl', () => {
  it("accepts 'shared' beside true and false, and refuses other strings naming the option", () => {
    for (const value of [true, false, 'shared'] as const) {
      assert.doesNotThrow(() => createCachedFetch({ backend: 'memory', cacheControl: value }))
    }
    assert.throws(
      () => createCachedFetch({ backend: 'memory', cacheControl: 'private' as never }),
      namesOption('cacheControl', InvalidOptionValueError),
    )
    assert.throws(
      () => createCachedFetch({ backend: 'memory', cacheControl: 1 as never }),
      namesOption('cacheControl', InvalidOptionTypeError),
    )
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    cachedFetch.settings.cacheControl = 'shared'
    assert.equal(cachedFetch.settings.cacheControl, 'shared')
  })
})

describe('without the redis package', () => {
  it('asking for the Redis backend throws a MissingDependencyError naming the package to install', () => {
    let caught: unknown
    try {
      assertRedisInstalled(() => {
        throw Object.assign(new Error("Cannot find package 'redis'"), { code: 'ERR_MODULE_NOT_FOUND' })
      })
    } catch (error) {
      caught = error
    }
    assert.ok(isFetchCacheError(caught))
    assert.equal((caught as { code?: string }).code, 'FETCH_HTTP_CACHE_MISSING_DEPENDENCY')
    assert.equal((caught as { dependency?: string }).dependency, 'redis')
    assert.match((caught as Error).message, /npm install redis/)
  })

  it('in a process where it is not installed: the option and the constructor throw it, other backends work', () => {
    const worker = join(ROOT, 'spec', 'stores', 'workers', 'without-redis.ts')
    const run = spawnSync(process.execPath, ['--import', 'tsx', worker], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.equal(run.status, 0, run.stderr)
    const results = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>
    const missing = {
      threw: true,
      typed: true,
      code: 'FETCH_HTTP_CACHE_MISSING_DEPENDENCY',
      dependency: 'redis',
    }
    for (const way of ['option', 'constructor']) {
      const { message, ...rest } = results[way] ?? {}
      assert.deepEqual(rest, missing, way)
      assert.match(String(message), /"redis" package.*npm install redis/)
    }
    assert.deepEqual(results.memory, { threw: false })
    assert.deepEqual(results.memoryStore, { threw: false })
  })
})

/** Looks like node-redis's createCluster(): refused, its commands take routing arguments. */
function clusterLike(): object {
  const noop = () => {}
  return {
    sendCommand: noop,
    connect: noop,
    close: noop,
    destroy: noop,
    on: noop,
    off: noop,
    nodeClient: noop,
  }
}
