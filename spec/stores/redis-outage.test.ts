import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { StoreTimeoutError, StoreUnavailableError } from '../../lib/errors.js'
import { type CachedFetch, createCachedFetch } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { RedisStore } from '../../lib/stores/redis.js'
import { makeEntry } from '../helpers/entries.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'

/**
 * The network is not the disk: a Redis server that stops answering, dies or restarts turns lookups
 * into misses and writes into dropped writes, reported once per kind, and never fails or holds up a
 * request; the cache resumes by itself when the server is back. Each test gets its own server.
 */

/** Short enough that a paused server costs the tests little; long enough for a loaded machine. */
const COMMAND_TIMEOUT = 300
/** Bound of every wait below: past it the test fails instead of hanging. */
const PATIENCE = 20_000

describe('RedisStore when the server misbehaves', { skip: redisMissing }, () => {
  let server: RedisServer
  let reports: Error[]
  let store: RedisStore
  let prefix: string

  beforeEach(async () => {
    server = await startRedis()
    reports = []
    prefix = uniquePrefix()
    store = new RedisStore({
      url: server.url,
      prefix,
      commandTimeout: COMMAND_TIMEOUT,
      connectTimeout: PATIENCE,
      onError: (error) => reports.push(error),
    })
    await store.ready()
  })
  afterEach(async () => {
    server.resume()
    await store.close()
    await server.stop()
  })

  it('a server that stops answering: lookups miss, writes return, one StoreTimeoutError; it resumes when the server does', async () => {
    await store.set('k', makeEntry({ key: 'k', expires: null }))
    server.pause()
    for (let i = 0; i < 5; i++) {
      assert.equal(await within(store.get('k')), undefined)
      await within(store.set(`new${i}`, makeEntry({ key: `new${i}`, expires: null })))
    }
    assert.equal(reports.length, 1, reports.map((e) => e.message).join('\n'))
    assert.ok(reports[0] instanceof StoreTimeoutError)
    assert.equal((reports[0] as StoreTimeoutError).code, 'FETCH_HTTP_CACHE_STORE_TIMEOUT')
    server.resume()
    assert.ok(await eventually(async () => (await store.get('k')) !== undefined), 'the entry is found again')
  })

  it('a killed server: lookups miss, writes return, one StoreUnavailableError; after a restart it resumes without a new store', async () => {
    const secret = store.secret
    await server.kill()
    for (let i = 0; i < 5; i++) {
      assert.equal(await within(store.get('k')), undefined)
      await within(store.set('k', makeEntry({ key: 'k', expires: null })))
      await within(store.delete(['k']))
    }
    assert.equal(reports.length, 1, reports.map((e) => e.message).join('\n'))
    assert.ok(reports[0] instanceof StoreUnavailableError)
    await server.restart() // empty: nothing was persisted, not even the secret
    const entry = makeEntry({ key: 'k', expires: null })
    const back = await eventually(async () => {
      await store.set('k', entry)
      return (await store.get('k')) !== undefined
    })
    assert.ok(back, 'writes and reads work again')
    assert.equal(store.secret, secret, 'the secret it had is kept')
    assert.equal(server.cli('GET', `${prefix}secret`).trim(), secret, 'and restored on the server')
  })
})

describe('a cache on Redis, the server killed in the middle of a request storm', { skip: redisMissing }, () => {
  let server: RedisServer
  let origin: Origin
  let cachedFetch: CachedFetch
  const reports: Error[] = []

  before(async () => {
    server = await startRedis()
    origin = await startOrigin()
    cachedFetch = createCachedFetch({
      backend: 'redis',
      redis: { url: server.url, prefix: uniquePrefix('storm'), commandTimeout: COMMAND_TIMEOUT, connectTimeout: PATIENCE },
      expireAfter: 3600,
      onError: (error) => reports.push(error),
    })
    await capabilities(cachedFetch.cache.store).ready?.ready()
  })
  after(async () => {
    await cachedFetch.cache.close()
    await origin.close()
    await server.stop()
  })

  it('no request fails, none hangs, and the cache resumes after the restart', async () => {
    const paths = Array.from({ length: 20 }, (_, i) => `/storm/${i}`)
    const failures: unknown[] = []
    let answered = 0
    let hits = 0
    /** One client: a bounded number of requests, each checked, each bounded in time. */
    const client = async (id: number) => {
      for (let i = 0; i < 60; i++) {
        const path = paths[(id * 7 + i) % paths.length] as string
        try {
          const response = await within(cachedFetch(`${origin.url}${path}`))
          assert.equal(response.status, 200)
          assert.equal(await response.text(), `hello ${path}`)
          answered++
          if (cacheInfo(response)?.fromCache) hits++
        } catch (error) {
          failures.push(error)
        }
      }
    }
    const storm = Promise.all(Array.from({ length: 8 }, (_, id) => client(id)))
    // Kill it once the storm is under way, and bring it back (empty) while requests still run.
    assert.ok(await eventually(async () => answered >= 100), 'the storm got going')
    assert.ok(hits > 0, 'with hits from Redis')
    await server.kill()
    assert.ok(await eventually(async () => answered >= 250), 'requests go on without Redis')
    await server.restart()
    await storm
    assert.deepEqual(failures, [])
    assert.equal(answered, 8 * 60)
    for (const report of reports)
      assert.ok(report instanceof StoreUnavailableError || report instanceof StoreTimeoutError, report.message)
    const codes = reports.map((report) => (report as StoreUnavailableError).code)
    assert.ok(codes.includes('FETCH_HTTP_CACHE_STORE_UNAVAILABLE'))
    assert.equal(new Set(codes).size, codes.length, `one report per kind: ${codes.join(', ')}`)

    // Resumed: a response stored after the restart is served from the cache.
    const resumed = await eventually(async () => {
      const path = `/after-restart/${Math.random()}`
      await (await cachedFetch(`${origin.url}${path}`)).text()
      const again = await cachedFetch(`${origin.url}${path}`)
      await again.text()
      return cacheInfo(again)?.fromCache === true
    })
    assert.ok(resumed, 'the cache serves hits again')
  })
})

/** `promise`, or a rejection when it has not settled within PATIENCE: a hang fails the test. */
function within<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${PATIENCE} ms`)), PATIENCE)
  })
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer))
}

/** Polls `check` until it is true (resolves true) or PATIENCE runs out (resolves false). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + PATIENCE
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}
