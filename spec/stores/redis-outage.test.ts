import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { StoreTimeoutError, StoreUnavailableError } from '../../lib/errors.js'
import { CHANNELS, type ErrorEvent } from '../../lib/index.js'
import { type CachedFetch, createCachedFetch } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { RedisStore } from '../../lib/stores/redis.js'
import { makeEntry } from '../helpers/entries.js'
import { type CacheFront, forEachFront } from '../helpers/fronts.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'

/**
 * The network is not the disk: against a Redis server that stops answering, dies or restarts, every
 * lookup, write and delete rejects within its timeout with a typed error (the engine turns that into
 * a miss or a dropped write, counted and reported: it never fails or holds up a request), and the
 * store resumes by itself when the server is back. Each test gets its own server.
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

  it('a server that stops answering: each lookup and write rejects with StoreTimeoutError within commandTimeout; it resumes when the server does', async () => {
    await store.set('k', makeEntry({ key: 'k', expires: null }))
    server.pause()
    for (let i = 0; i < 5; i++) {
      const started = Date.now()
      await assert.rejects(within(store.get('k')), { name: 'StoreTimeoutError', code: 'FETCH_HTTP_CACHE_STORE_TIMEOUT' })
      await assert.rejects(within(store.set(`new${i}`, makeEntry({ key: `new${i}`, expires: null }))), StoreTimeoutError)
      // Two commands, each bounded by commandTimeout (generous slack for a loaded machine).
      assert.ok(Date.now() - started < 2 * COMMAND_TIMEOUT + 2_000, `${Date.now() - started} ms`)
    }
    // The request path's failures are the caller's to report (the engine counts and reports them).
    assert.deepEqual(reports, [])
    server.resume()
    assert.ok(
      await eventually(async () => (await store.get('k').catch(() => undefined)) !== undefined),
      'the entry is found again',
    )
  })

  it('a killed server: each lookup, write and delete rejects with StoreUnavailableError, the lost connection reported once; after a restart it resumes without a new store', async () => {
    const secret = store.secret
    await server.kill()
    for (let i = 0; i < 5; i++) {
      await assert.rejects(within(store.get('k')), StoreUnavailableError)
      await assert.rejects(within(store.set('k', makeEntry({ key: 'k', expires: null }))), StoreUnavailableError)
      await assert.rejects(within(store.delete(['k'])), StoreUnavailableError)
    }
    assert.ok(reports.length <= 1, reports.map((e) => e.message).join('\n'))
    for (const report of reports) assert.ok(report instanceof StoreUnavailableError)
    await server.restart() // empty: nothing was persisted, not even the secret
    const entry = makeEntry({ key: 'k', expires: null })
    // Until it has reconnected, each call still rejects.
    const back = await eventually(async () => {
      try {
        await store.set('k', entry)
        return (await store.get('k')) !== undefined
      } catch {
        return false
      }
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

forEachFront('a cache on a Redis server that stops answering', (kind) => {
  let server: RedisServer
  let origin: Origin
  let front: CacheFront
  let reported: Error[]
  let seen: { channel: string; event: Record<string, unknown> }[]
  const listeners = [CHANNELS.store, CHANNELS.error].map(
    (channel) => [channel, (event: unknown) => seen.push({ channel, event: event as Record<string, unknown> })] as const,
  )

  before(async () => {
    server = await startRedis()
    origin = await startOrigin({ '*': (_req, res) => void res.writeHead(200, { 'content-length': '2' }).end('ok') })
    for (const [channel, listener] of listeners) subscribe(channel, listener)
  })
  after(async () => {
    for (const [channel, listener] of listeners) unsubscribe(channel, listener)
    server.resume()
    await front?.close()
    await origin.close()
    await server.stop()
  })

  it('is reported within commandTimeout: onError hears one StoreTimeoutError, every failure is counted and published, nothing claims a write', async () => {
    reported = []
    seen = []
    front = kind.open({
      backend: 'redis',
      redis: { url: server.url, prefix: uniquePrefix(kind.name), commandTimeout: COMMAND_TIMEOUT, connectTimeout: PATIENCE },
      expireAfter: 3600,
      onError: (error) => reported.push(error),
    })
    await capabilities(front.cache.store).ready?.ready()
    server.pause()
    const requests = 4
    for (let i = 0; i < requests; i++) {
      const started = Date.now()
      const response = await within(front.get(`${origin.url}/hung/${i}`))
      assert.equal(await response.text(), 'ok')
      // The lookup waits at most commandTimeout (generous slack for a loaded machine).
      assert.ok(Date.now() - started < COMMAND_TIMEOUT + 2_000, `${Date.now() - started} ms`)
      assert.equal(response.stored, false, String(response.cacheStatus))
      assert.match(String(response.cacheStatus), /detail=store-unavailable/)
      if (kind.name === 'fetch') {
        const info = cacheInfo(response.raw as Response)
        assert.ok(info)
        assert.equal(await within(info.stored), false)
      }
    }
    // Each request's lookup and write failed; the writes fail once their commandTimeout has passed.
    assert.ok(await eventually(async () => front.cache.stats().storeErrors >= 2 * requests), 'every failure counted')
    const stats = front.cache.stats()
    assert.deepEqual([stats.stored, stats.storeErrors, stats.misses], [0, 2 * requests, requests])
    assert.deepEqual(
      reported.map((error) => error.name),
      ['StoreTimeoutError'],
    )
    const failures = seen.filter((s) => s.channel === CHANNELS.error).map((s) => s.event as unknown as ErrorEvent)
    assert.deepEqual(failures.map((e) => e.operation).sort(), [...Array(requests).fill('read'), ...Array(requests).fill('write')])
    for (const { error } of failures) assert.ok(error instanceof StoreTimeoutError, error.message)
    assert.deepEqual(
      seen.filter((s) => s.channel === CHANNELS.store),
      [],
    )
    server.resume()
  })

  it("a server that answers reads but holds writes: the caller's body ends without waiting for the write, which lands later", async () => {
    front = kind.open({
      backend: 'redis',
      // Far longer than the test: the write is still held when the body has ended.
      redis: { url: server.url, prefix: uniquePrefix(`${kind.name}-held`), commandTimeout: PATIENCE, connectTimeout: PATIENCE },
      expireAfter: 3600,
    })
    await capabilities(front.cache.store).ready?.ready()
    server.cli('CLIENT', 'PAUSE', String(PATIENCE), 'WRITE')
    try {
      const response = await within(front.get(`${origin.url}/held`))
      assert.equal(await within(response.text()), 'ok')
      if (kind.name === 'fetch') {
        const stored = cacheInfo(response.raw as Response)?.stored
        const settled = await Promise.race([stored?.then(() => 'settled'), new Promise((r) => setImmediate(r, 'pending'))])
        assert.equal(settled, 'pending', 'the write is still held by the server')
        server.cli('CLIENT', 'UNPAUSE')
        assert.equal(await within(stored as Promise<boolean>), true)
      }
    } finally {
      server.cli('CLIENT', 'UNPAUSE')
    }
    const hit = await within(front.get(`${origin.url}/held`))
    assert.equal(await hit.text(), 'ok')
    assert.equal(hit.fromCache, true)
  })
})

forEachFront('a cache on a Redis server that refuses the credentials given', (kind) => {
  it('is an outage: told once as StoreUnavailableError, every response says store-unavailable, none claims stored', async (t) => {
    const server = await startRedis()
    const origin = await startOrigin({ '*': (_req, res) => void res.end('ok') })
    const reported: Error[] = []
    server.cli('CONFIG', 'SET', 'requirepass', 'the-right-one')
    const front = kind.open({
      backend: 'redis',
      redis: { url: server.url, prefix: uniquePrefix(`${kind.name}-auth`), commandTimeout: PATIENCE, connectTimeout: 2_000 },
      expireAfter: 3600,
      onError: (error) => reported.push(error),
    })
    t.after(async () => {
      await front.close()
      await origin.close()
      await server.stop()
    })
    await capabilities(front.cache.store).ready?.ready()
    for (let i = 0; i < 3; i++) {
      const response = await within(front.get(`${origin.url}/auth/${i}`))
      assert.equal(await response.text(), 'ok')
      assert.equal(response.stored, false, String(response.cacheStatus))
      assert.match(String(response.cacheStatus), /detail=store-unavailable/)
    }
    assert.ok(reported.length >= 1)
    for (const error of reported) assert.ok(error instanceof StoreUnavailableError, error.message)
    assert.match(reported[0]?.message ?? '', /NOAUTH/)
  })
})
