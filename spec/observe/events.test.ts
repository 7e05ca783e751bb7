import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, beforeEach, it } from 'node:test'
import {
  CHANNELS,
  cacheInfo,
  type ErrorEvent,
  type EvictEvent,
  type LookupEvent,
  MemoryStore,
  type RevalidateEvent,
  SqliteStore,
  type StoreEvent,
} from '../../lib/index.js'
import { CacheEvents } from '../../lib/observe/events.js'
import { FaultyStore } from '../helpers/faulty-store.js'
import { type CacheFront, forEachFront } from '../helpers/fronts.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/** Every event published on the fetch-http-cache channels while a test runs, with its channel. */
interface Seen {
  channel: string
  event: Record<string, unknown>
}

let seen: Seen[] = []
const listeners = Object.values(CHANNELS).map((name) => {
  const listener = (event: unknown) => seen.push({ channel: name, event: event as Record<string, unknown> })
  return [name, listener] as const
})

/** The events of one channel whose URL lies under `path` (channels are process-wide: other caches publish too). */
function events<T>(channel: string, path: string): T[] {
  return seen.filter((s) => s.channel === channel && String(s.event.url ?? s.event.urls).includes(path)).map((s) => s.event as T)
}

/** The store events under `path` once `front` has settled: a response is stored once its body has ended. */
async function stored(front: CacheFront, path: string): Promise<StoreEvent[]> {
  await front.settled()
  return events<StoreEvent>(CHANNELS.store, path)
}

before(() => {
  for (const [name, listener] of listeners) subscribe(name, listener)
})
after(() => {
  for (const [name, listener] of listeners) unsubscribe(name, listener)
})

forEachFront('diagnostics_channel events and stats()', (kind) => {
  let origin: Origin
  let front: CacheFront
  let clock = Date.now()
  let n = 0
  const path = (name: string) => `/events/${kind.name}/${name}/${++n}`
  before(async () => {
    origin = await startOrigin()
  })
  after(() => origin.close())
  beforeEach(() => {
    seen = []
    clock = Date.now()
    front = kind.open({ backend: 'memory', cacheControl: true, ignoredParameters: ['token'] }, () => clock)
  })
  afterEach(() => front.close())

  function answer(p: string, headers: Record<string, string>, body = 'hello') {
    origin.route(p, (req, res) => {
      if (headers.etag && req.headers['if-none-match'] === headers.etag) {
        res.writeHead(304, headers).end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain', ...headers }).end(body)
    })
  }

  it('a miss, its store and a hit are published with method, URL, key, size and timings', async () => {
    const p = path('hit')
    answer(p, { 'cache-control': 'max-age=60' }, 'twelve bytes')
    await (await front.get(origin.url + p)).text()
    const [write] = await stored(front, p)
    await (await front.get(origin.url + p)).text()

    const lookups = events<LookupEvent>(CHANNELS.lookup, p)
    assert.deepEqual(
      lookups.map((e) => [e.method, e.url, e.outcome, e.reason]),
      [
        ['GET', origin.url + p, 'miss', 'not stored'],
        ['GET', origin.url + p, 'hit', 'fresh'],
      ],
    )
    assert.ok(write)
    assert.equal(write.method, 'GET')
    assert.equal(write.url, origin.url + p)
    assert.equal(write.status, 200)
    assert.equal(write.size, 12)
    assert.ok(write.expires !== null && write.expires > clock)
    assert.equal(lookups[1]?.key, write.key)
    for (const event of [...lookups, write]) assert.ok(event.duration >= 0 && Number.isFinite(event.duration))
    assert.deepEqual(front.cache.stats(), {
      hits: 1,
      misses: 1,
      coalesced: 0,
      staleServed: 0,
      revalidations: 0,
      notModified: 0,
      bypasses: 0,
      stored: 1,
      storeErrors: 0,
    })
  })

  it('a stale entry revalidated with a 304 publishes the revalidation and counts it', async () => {
    const p = path('revalidate')
    answer(p, { 'cache-control': 'max-age=1', etag: '"v1"' })
    await (await front.get(origin.url + p)).text()
    await stored(front, p)
    clock += 5_000
    const again = await front.get(origin.url + p)
    await again.text()
    assert.equal(again.revalidated, true)
    const [lookup] = events<LookupEvent>(CHANNELS.lookup, p).slice(1)
    assert.equal(lookup?.outcome, 'revalidate')
    assert.equal(lookup?.reason, 'stale')
    const [revalidation] = events<RevalidateEvent>(CHANNELS.revalidate, p)
    assert.ok(revalidation)
    assert.equal(revalidation.status, 304)
    assert.equal(revalidation.notModified, true)
    assert.equal(revalidation.key, lookup?.key)
    const stats = front.cache.stats()
    assert.equal(stats.revalidations, 1)
    assert.equal(stats.notModified, 1)
    assert.equal(stats.misses, 1)
    assert.equal(stats.hits, 0)
  })

  it('a stale response served (stale-while-revalidate) counts as a hit and as stale served', async () => {
    const p = path('swr')
    answer(p, { 'cache-control': 'max-age=1, stale-while-revalidate=60', etag: '"s"' })
    await (await front.get(origin.url + p)).text()
    await stored(front, p)
    clock += 5_000
    const stale = await front.get(origin.url + p)
    await stale.text()
    assert.equal(stale.stale, true)
    const lookup = events<LookupEvent>(CHANNELS.lookup, p)[1]
    assert.deepEqual([lookup?.outcome, lookup?.reason], ['stale', 'stale-while-revalidate'])
    // The background refresh is a revalidation of its own.
    await front.settled()
    const stats = front.cache.stats()
    assert.equal(stats.hits, 1)
    assert.equal(stats.staleServed, 1)
    assert.equal(stats.revalidations, 1)
  })

  it('a stale response served after an origin error (stale-if-error) counts as stale served', async () => {
    await front.close()
    front = kind.open({ backend: 'memory', cacheControl: true, staleIfError: true }, () => clock)
    const p = path('sie')
    let fail = false
    origin.route(p, (_req, res) => {
      if (fail) res.writeHead(503).end('down')
      else res.writeHead(200, { 'cache-control': 'max-age=1', etag: '"k"' }).end('kept')
    })
    await (await front.get(origin.url + p)).text()
    await stored(front, p)
    clock += 5_000
    fail = true
    const fallback = await front.get(origin.url + p)
    assert.equal(await fallback.text(), 'kept')
    const lookup = events<LookupEvent>(CHANNELS.lookup, p)[1]
    assert.deepEqual([lookup?.outcome, lookup?.reason], ['revalidate', 'stale'])
    const [revalidation] = events<RevalidateEvent>(CHANNELS.revalidate, p)
    assert.deepEqual([revalidation?.status, revalidation?.notModified], [503, false])
    const stats = front.cache.stats()
    assert.deepEqual([stats.misses, stats.revalidations, stats.notModified, stats.staleServed, stats.hits], [1, 1, 0, 1, 0])
  })

  it('a request the cache stays out of is a bypass, and a successful POST publishes the invalidation', async () => {
    const p = path('post')
    answer(p, { 'cache-control': 'max-age=60' })
    await (await front.get(origin.url + p)).text()
    await stored(front, p)
    await (await front.get(origin.url + p, { method: 'POST', body: 'x' })).text()
    const lookup = events<LookupEvent>(CHANNELS.lookup, p)[1]
    assert.equal(lookup?.outcome, 'bypass')
    assert.equal(lookup?.key, undefined)
    const deletes = events<{ keys: string[]; reason: string; urls: string[] }>(CHANNELS.delete, p)
    assert.equal(deletes.length, 1)
    assert.equal(deletes[0]?.reason, 'invalidated')
    assert.deepEqual(deletes[0]?.urls, [origin.url + p])
    assert.equal(front.cache.stats().bypasses, 1)
  })

  it('no credential appears in any event: Authorization, Cookie, an ignored parameter', async () => {
    const p = path('secret')
    answer(p, { 'cache-control': 'private, max-age=60', vary: 'cookie' })
    const url = `${origin.url}${p}?token=SECRET-QUERY&page=2`
    const init = { headers: { authorization: 'Bearer SECRET-AUTH', cookie: 'session=SECRET-COOKIE' } }
    await (await front.get(url, init)).text()
    await stored(front, p)
    await (await front.get(url, init)).text()
    await (await front.get(url, { ...init, method: 'DELETE' })).text()
    const mine = seen.filter((s) => JSON.stringify(s.event).includes(p))
    assert.ok(mine.some((s) => s.channel === CHANNELS.store))
    assert.ok(mine.some((s) => s.channel === CHANNELS.delete))
    assert.equal(mine.filter((s) => s.channel === CHANNELS.lookup).length, 3)
    for (const { channel, event } of mine) {
      const text = JSON.stringify(event)
      assert.doesNotMatch(text, /SECRET/, `${channel}: ${text}`)
      // Every event of this request names it: a URL (a delete, the URLs it removed), redacted.
      const urls = channel === CHANNELS.delete ? event.urls : [event.url]
      assert.ok(Array.isArray(urls) && urls.length > 0, `${channel}: ${text}`)
      for (const u of urls) assert.match(String(u), /token=REDACTED&page=2$/, `${channel}: ${text}`)
    }
  })

  it('a failing store publishes fetch-http-cache:error and counts store errors; the request still succeeds', async () => {
    const errors: Error[] = []
    await front.close()
    const faulty = new FaultyStore(new MemoryStore()).fail('SQLITE_IOERR', 'get', 'set')
    front = kind.open({ backend: faulty, onError: (error) => errors.push(error) }, () => clock)
    const p = path('error')
    answer(p, { 'cache-control': 'max-age=60' })
    const response = await front.get(origin.url + p)
    assert.equal(await response.text(), 'hello')
    await front.settled()
    const published = seen.filter((s) => s.channel === CHANNELS.error).map((s) => s.event)
    assert.deepEqual(
      published.map((e) => e.operation),
      ['read', 'write'],
    )
    assert.deepEqual(
      published.map((e) => e.error),
      errors,
    )
    assert.equal(front.cache.stats().storeErrors, 2)
  })

  it('a filter that throws is reported as a FilterError naming the option, not as a store failure; the response is not stored', async () => {
    await front.close()
    const reported: Error[] = []
    const filter = () => {
      throw new Error('filter bug')
    }
    front = kind.open({ backend: 'memory', filter, onError: (error) => reported.push(error) }, () => clock)
    const p = path('filter')
    answer(p, { 'cache-control': 'max-age=60' })
    const response = await front.get(origin.url + p)
    assert.equal(await response.text(), 'hello')
    assert.equal(response.stored, false)
    assert.equal(reported.length, 1)
    assert.equal(reported[0]?.name, 'FilterError')
    assert.equal((reported[0] as { option?: string }).option, 'filter')
    assert.match(reported[0]?.message ?? '', /the filter failed, so the response was not stored: filter bug/)
    const published = seen.filter((s) => s.channel === CHANNELS.error).map((s) => s.event as unknown as ErrorEvent)
    assert.deepEqual(
      published.map((e) => [e.operation, e.error]),
      [['filter', reported[0]]],
    )
    assert.equal(front.cache.stats().storeErrors, 0)
    assert.equal((await front.get(origin.url + p)).hit, false)
  })

  it('the counters add up: hits + misses + coalesced + bypasses = requests, and misses = origin requests', async () => {
    const p = path('sum')
    let release: () => void = () => {}
    const opened = new Promise<void>((resolve) => (release = resolve))
    let arrived: () => void = () => {}
    const reached = new Promise<void>((resolve) => (arrived = resolve))
    origin.route(`${p}/shared`, async (_req, res) => {
      arrived()
      await opened
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' }).end('shared')
    })
    answer(`${p}/alone`, { 'cache-control': 'max-age=60' })
    answer(`${p}/posted`, {})
    // Four identical requests at once: one miss sent to the origin, three coalesced onto it (on
    // node:http, never coalesced, four misses).
    const shared = kind.name === 'node:http' ? 0 : 3
    const pending = Array.from({ length: 4 }, () => front.get(`${origin.url}${p}/shared`))
    await reached
    release()
    for (const response of await Promise.all(pending)) assert.equal(await response.text(), 'shared')
    await stored(front, `${p}/shared`)
    await (await front.get(`${origin.url}${p}/alone`)).text()
    await stored(front, `${p}/alone`)
    for (const hit of [`${p}/shared`, `${p}/alone`]) assert.equal((await front.get(origin.url + hit)).hit, true)
    await (await front.get(`${origin.url}${p}/posted`, { method: 'POST', body: 'x' })).text()
    const requests = 4 + 1 + 2 + 1
    const stats = front.cache.stats()
    assert.deepEqual([stats.hits, stats.misses, stats.coalesced, stats.bypasses], [2, 5 - shared, shared, 1])
    assert.equal(stats.hits + stats.misses + stats.coalesced + stats.bypasses, requests)
    assert.equal(stats.misses, origin.count(`${p}/shared`) + origin.count(`${p}/alone`))
    const outcomes = events<LookupEvent>(CHANNELS.lookup, `${p}/shared`).map((e) => e.outcome)
    assert.deepEqual(outcomes, ['miss', ...Array(3).fill(shared ? 'coalesced' : 'miss'), 'hit'])
  })

  it('a SQLite file that cannot be opened: no response, counter or event claims a write; every failure is counted and published, onError hears it once', async () => {
    await front.close()
    const { dir, cleanup } = await tempDir()
    try {
      // Its directory is a regular file: the store cannot be opened, whoever runs the test.
      await writeFile(join(dir, 'not-a-directory'), 'x')
      const reported: Error[] = []
      front = kind.open(
        { cacheName: join(dir, 'not-a-directory', 'cache'), onError: (error) => reported.push(error) },
        () => clock,
      )
      const p = path('unopenable')
      answer(p, { 'cache-control': 'max-age=60', 'content-length': '5' })
      for (let i = 0; i < 3; i++) {
        const response = await front.get(origin.url + p)
        assert.equal(await response.text(), 'hello')
        assert.equal(response.stored, false, String(response.cacheStatus))
        assert.match(String(response.cacheStatus), /detail=store-unavailable/)
        if (kind.name === 'fetch') assert.equal(await cacheInfo(response.raw as Response)?.stored, false)
      }
      assert.equal(origin.count(p), 3)
      assert.deepEqual(
        reported.map((e) => e.name),
        ['StoreUnavailableError'],
      )
      assert.deepEqual(events(CHANNELS.store, p), [])
      const failures = seen.filter((s) => s.channel === CHANNELS.error).map((s) => s.event as unknown as ErrorEvent)
      // The opening, then each request's lookup and write, each published.
      assert.deepEqual(
        failures.map((e) => e.operation),
        ['store', 'read', 'write', 'read', 'write', 'read', 'write'],
      )
      for (const { error } of failures) assert.equal(error.name, 'StoreUnavailableError')
      const stats = front.cache.stats()
      assert.deepEqual([stats.stored, stats.storeErrors, stats.misses], [0, 7, 3])
    } finally {
      // afterEach closes the front (it holds no file here).
      await cleanup()
    }
  })
})

it('event URLs drop user info and fragments and redact ignored and credential parameters', () => {
  const events = new CacheEvents(() => ({ ignored: new Set(['token']), credentialParameters: new Set(['api_key']) }))
  assert.equal(
    events.url('http://user:pw@127.0.0.1:1/a?token=t&x=1&API_KEY=k#frag'),
    'http://127.0.0.1:1/a?token=REDACTED&x=1&API_KEY=REDACTED',
  )
  assert.equal(events.url('not a url'), '(unparsable URL)')
})

forEachFront('fetch-http-cache:evict', (kind) => {
  let origin: Origin
  let n = 0
  before(async () => {
    origin = await startOrigin({
      '*': (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }).end('x'.repeat(2000))
      },
    })
  })
  after(() => origin.close())
  beforeEach(() => {
    seen = []
  })

  /** Fetches and stores `count` URLs under `/evict/<kind>/<store>/`, waiting for each write. */
  async function fill(front: CacheFront, store: string, count: number): Promise<string[]> {
    const paths: string[] = []
    for (let i = 0; i < count; i++) {
      const p = `/evict/${kind.name}/${store}/${++n}?token=SECRET`
      paths.push(p)
      await (await front.get(origin.url + p)).text()
      assert.equal((await stored(front, p.slice(0, p.indexOf('?')))).length, 1)
    }
    return paths
  }

  it('the memory store publishes the least recently used entry it evicts, URL redacted', async () => {
    const front = kind.open({ backend: new MemoryStore({ maxEntries: 2 }), ignoredParameters: ['token'] })
    try {
      const paths = await fill(front, 'memory', 3)
      const evicted = seen.filter((s) => s.channel === CHANNELS.evict).map((s) => s.event as unknown as EvictEvent)
      assert.equal(evicted.length, 1)
      assert.deepEqual(evicted[0]?.urls, [`${origin.url}${paths[0]?.replace('SECRET', 'REDACTED')}`])
      assert.deepEqual([evicted[0]?.reason, evicted[0]?.store], ['least recently used', 'memory'])
      assert.equal(evicted[0]?.keys.length, 1)
    } finally {
      await front.close()
    }
  })

  it('the SQLite store publishes what it prunes past maxSize', async () => {
    const { dir, cleanup } = await tempDir()
    const store = new SqliteStore({ path: join(dir, 'cache.sqlite'), maxSize: 8_000 })
    const front = kind.open({ backend: store, ignoredParameters: ['token'] })
    try {
      await fill(front, 'sqlite', 6)
      await store.flush()
      const evicted = seen.filter((s) => s.channel === CHANNELS.evict).map((s) => s.event as unknown as EvictEvent)
      assert.ok(evicted.length > 0, 'something was evicted')
      for (const event of evicted) {
        assert.equal(event.store, 'sqlite')
        assert.equal(event.reason, 'least recently used')
        assert.equal(event.urls.length, event.keys.length)
        for (const url of event.urls) assert.match(url, /\/evict\/.+token=REDACTED$/)
      }
    } finally {
      await front.close()
      await store.close()
      await cleanup()
    }
  })
})
