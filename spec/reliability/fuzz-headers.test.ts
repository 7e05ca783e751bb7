import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Engine, type KeyedRequest } from '../../lib/engine/engine.js'
import type { CacheEntry } from '../../lib/entry/entry.js'
import { parseAge } from '../../lib/entry/freshness-facts.js'
import { responseFromEntry } from '../../lib/fronts/fetch/response.js'
import { parseCacheControl } from '../../lib/http/cache-control.js'
import { parseHttpDate } from '../../lib/http/dates.js'
import type { CacheOptions } from '../../lib/index.js'
import { infoFor } from '../../lib/observe/cache-info.js'
import { LiveSettings } from '../../lib/options/live.js'
import type { CacheSettings } from '../../lib/options/types.js'
import { decideCached, mayServeOnError, planRequest } from '../../lib/policy/actions.js'
import {
  conditionalHeaders,
  currentAge,
  explicitLifetime,
  hasValidator,
  heuristicLifetime,
  initialAge,
} from '../../lib/policy/freshness.js'
import { mergeNotModified } from '../../lib/policy/stored-headers.js'
import { decideWrite } from '../../lib/policy/write.js'
import { MemoryStore } from '../../lib/stores/memory.js'
import { fetchFront, readAll, undiciFront } from '../helpers/fronts.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import { Prng } from '../helpers/prng.js'

/**
 * Malformed response headers never throw inside the cache (issue 8): Cache-Control,
 * Expires, Age, Vary, ETag, Date (and Last-Modified, Pragma) from a seeded generator, mixing
 * well-formed pieces with random bytes. A failing case prints its seed and index to replay it.
 */

// FETCH_HTTP_CACHE_FUZZ_SEED replays or explores another sequence; the default is fixed, so CI is deterministic.
const SEED = Number(process.env.FETCH_HTTP_CACHE_FUZZ_SEED ?? 0x5eed_0008)
const POLICY_CASES = 4000
const ORIGIN_CASES = 300
const T0 = Date.UTC(2025, 0, 1)

const DIRECTIVES = [
  'max-age',
  's-maxage',
  'no-cache',
  'no-store',
  'must-revalidate',
  'proxy-revalidate',
  'private',
  'public',
  'immutable',
  'stale-while-revalidate',
  'stale-if-error',
  'min-fresh',
  'max-stale',
  'only-if-cached',
  'no-transform',
  'must-understand',
  'MAX-AGE',
  'No-Cache',
  'x-unknown',
]
const ARGUMENTS = [
  '',
  '=',
  '=0',
  '=-1',
  '=1',
  '=60',
  '=99999999999999999999999',
  '=1e3',
  '=0x10',
  '="60"',
  '="',
  '=\\"',
  '= 60',
  '=60.5',
  '=NaN',
  '=Infinity',
  '=,',
  '="a, b"',
  '=set-cookie',
]
const SEPARATORS = [',', ', ', ',,', ' ', '\t', ';', '"', '\\', '=']
const DATES = [
  'Sun, 06 Nov 1994 08:49:37 GMT',
  'Sunday, 06-Nov-94 08:49:37 GMT',
  'Sun Nov  6 08:49:37 1994',
  'Wed, 01 Jan 2025 00:00:00 GMT',
  'Thu, 01 Jan 2099 00:00:00 GMT',
  '2025-01-01T00:00:00Z',
  '0',
  '-1',
  '1e20',
  '253402300800000',
  'Sat, 13 Sep 275760 00:00:01 GMT',
  'Mon, 32 Foo 99999 99:99:99 GMT',
  'Wed, 01 Jan 2025 00:00:00 GMT, Thu, 02 Jan 2025 00:00:00 GMT',
  'yesterday',
  'Wed,',
]
const AGES = ['0', '60', '-1', '1.5', '99999999999999999999', ' 5 ', '5, 6', 'abc', '1e3', '0x10', '']
const VARIES = [
  'accept',
  'Accept-Encoding, Cookie',
  '*',
  'accept, *',
  ', ,',
  'x y',
  'Authorization',
  'cookie,COOKIE,Cookie',
  'a'.repeat(300),
]
const ETAGS = ['"abc"', 'W/"abc"', 'abc', '"', '', 'W/', '"a", "b"', '*', '"'.repeat(50)]
const STATUSES = [200, 203, 204, 206, 300, 301, 304, 307, 308, 404, 405, 410, 414, 418, 451, 500, 501, 503, 599, 299]

/** Bytes allowed in a header value (RFC 9110 §5.5, obs-text included): what an origin can send. */
function randomText(random: Prng, max: number): string {
  let text = ''
  const length = random.int(max + 1)
  for (let i = 0; i < length; i++) {
    const r = random.int(100)
    text += r < 2 ? '\t' : r < 80 ? String.fromCharCode(random.range(0x20, 0x7e)) : String.fromCharCode(random.range(0x80, 0xff))
  }
  return text
}

function pieces(make: () => string, count: number): string {
  let value = ''
  for (let i = 0; i < count; i++) value += make()
  return value
}

function cacheControl(random: Prng): string {
  return pieces(() => {
    const r = random.int(10)
    if (r < 6) return random.pick(DIRECTIVES) + random.pick(ARGUMENTS) + random.pick(SEPARATORS)
    if (r < 8) return random.pick(SEPARATORS)
    return randomText(random, 12)
  }, random.int(6))
}

/** One of: a well-formed value, a known-bad one, or random bytes. */
function headerValue(random: Prng, known: readonly string[]): string {
  const r = random.int(10)
  if (r < 5) return random.pick(known)
  if (r < 7) return random.pick(known) + random.pick(SEPARATORS) + random.pick(known)
  if (r < 9) return randomText(random, 40)
  return random.pick(known) + randomText(random, 6)
}

/** A random set of the fuzzed response headers, as an origin would send them. */
export function fuzzHeaders(random: Prng): [string, string][] {
  const headers: [string, string][] = [['content-type', 'text/plain']]
  const maybe = (name: string, make: () => string) => {
    if (random.chance(0.6)) headers.push([name, make()])
    if (random.chance(0.08)) headers.push([name, make()]) // a duplicate field
  }
  maybe('cache-control', () => cacheControl(random))
  maybe('expires', () => headerValue(random, DATES))
  maybe('date', () => headerValue(random, DATES))
  maybe('last-modified', () => headerValue(random, DATES))
  maybe('age', () => headerValue(random, AGES))
  maybe('vary', () => headerValue(random, VARIES))
  maybe('etag', () => headerValue(random, ETAGS))
  maybe('pragma', () => headerValue(random, ['no-cache', 'no-cache, x', '']))
  return headers
}

function toHeaders(pairs: readonly [string, string][]): Headers {
  const headers = new Headers()
  for (const [name, value] of pairs) headers.append(name, value)
  return headers
}

const finiteOrNull = (value: number | null, what: string) =>
  assert.ok(
    value === null || Number.isFinite(value),
    `${what} is ${value}: NaN and Infinity would be stored as null (never expires)`,
  )

const SETTINGS: Partial<CacheSettings>[] = [
  {},
  { cacheControl: true },
  { cacheControl: true, staleIfError: true, staleWhileRevalidate: '1m' },
  { cacheControl: true, expireAfter: '5m', alwaysRevalidate: true, allowableCodes: [200, 404] },
  { expireAfter: 0, urlsExpireAfter: { '*/fuzz/*': '1h' } },
]

describe('malformed response headers, through the policy functions', () => {
  it(`${POLICY_CASES} seeded cases never throw, and never produce an unstorable expiry`, async () => {
    const random = new Prng(SEED)
    const engines = SETTINGS.map((s) => new Engine(new MemoryStore(), new LiveSettings(s), () => T0))
    // How far the cases get: a fuzz run whose cases stop at the first `continue` checks little.
    const reached = { planned: 0, stored: 0, served: 0 }
    for (let i = 0; i < POLICY_CASES; i++) {
      const pairs = fuzzHeaders(random)
      const requestPairs = fuzzHeaders(random).filter(([n]) => n === 'cache-control' || n === 'pragma')
      const engine = random.pick(engines)
      const settings = engine.settings
      const status = random.pick(STATUSES)
      const requestTime = T0 + random.int(10_000)
      const responseTime = requestTime + random.int(2_000)
      const now = responseTime + random.pick([0, 1_000, 60_000, 86_400_000, -5_000])
      try {
        const headers = toHeaders(pairs)
        const requestHeaders = toHeaders([...requestPairs, ['cookie', `c${i}`], ['accept', random.pick(VARIES)]])
        const directives = parseCacheControl(headers.get('cache-control'))
        for (const value of [
          directives.maxAge,
          directives.sMaxAge,
          directives.minFresh,
          directives.staleIfError,
          directives.staleWhileRevalidate,
        ]) {
          assert.ok(value === undefined || (Number.isFinite(value) && value >= 0))
        }
        parseHttpDate(headers.get('expires'))
        parseAge(headers.get('age'))
        const lifetime = explicitLifetime(directives, headers)
        assert.ok(lifetime === undefined || (Number.isFinite(lifetime) && lifetime >= 0), `lifetime ${lifetime}`)
        const heuristic = heuristicLifetime(status, headers, responseTime)
        assert.ok(heuristic === undefined || Number.isFinite(heuristic))
        assert.ok(Number.isFinite(initialAge(headers, requestTime, responseTime)))
        if (hasValidator(headers)) conditionalHeaders(headers)

        const url = `https://example.com/fuzz/${i}`
        const plan = planRequest(
          { method: 'GET', url, headers: requestHeaders, mode: undefined, options: {}, unkeyableBody: false },
          settings,
        )
        if (plan.kind === 'bypass') continue
        reached.planned++
        const decision = decideWrite(plan, { status, headers, requestTime, responseTime }, settings, responseTime)
        if (!decision.store) continue
        reached.stored++
        finiteOrNull(decision.expires, 'expires')

        const keyed: KeyedRequest = {
          method: 'GET',
          url,
          headers: requestHeaders,
          bodyDigest: '',
          baseKey: engine.keyFor('GET', url, requestHeaders, ''),
        }
        const saved = await engine.save(keyed, {
          responseUrl: url,
          status,
          statusText: 'Fuzz',
          headers: pairs,
          redirected: false,
          body: new Uint8Array(3),
          encoding: 'identity',
          requestTime,
          responseTime,
          createdAt: responseTime,
          expires: decision.expires,
        })
        const entry = (await engine.lookup(keyed)) ?? saved?.entry
        if (!entry) continue
        reached.served++
        assert.ok(Number.isFinite(currentAge(entry, now)))
        const action = decideCached(plan, entry, settings, now)
        assert.ok(['serve', 'serve-stale-and-refresh', 'revalidate', 'fetch', 'not-cached'].includes(action.kind))
        mayServeOnError(plan, entry, settings, now)

        // A 304 carrying another set of malformed headers.
        const notModified = toHeaders(fuzzHeaders(random))
        const merged: CacheEntry = mergeNotModified(entry, notModified, now, now + 5)
        const again = decideWrite(
          plan,
          { status: merged.status, headers: toHeaders(merged.headers), requestTime: now, responseTime: now + 5 },
          settings,
          now + 5,
        )
        if (again.store) finiteOrNull(again.expires, 'expires after 304')
        const response = responseFromEntry(merged, toHeaders(merged.headers), infoFor(merged, now, true), undefined, 'GET')
        assert.equal(response.status, status)
      } catch (error) {
        throw new Error(`case ${i} of seed ${SEED}: ${JSON.stringify(pairs)}: ${(error as Error).message}`, { cause: error })
      }
    }
    // With this seed 3,883 cases are planned and 954 stored, looked up and revalidated: bounds, not
    // counts, so a policy change moves them without failing the test, and a fuzzer gone shallow fails it.
    assert.ok(reached.planned >= POLICY_CASES * 0.9, `only ${reached.planned} cases reached the plan`)
    assert.ok(reached.stored >= POLICY_CASES / 5, `only ${reached.stored} cases were stored`)
    assert.equal(reached.served, reached.stored, 'every stored case is looked up and served')
  })
})

describe('malformed response headers, from a real origin with cacheControl: true', () => {
  const random = new Prng(SEED + 1)
  const cases = Array.from({ length: ORIGIN_CASES }, () => fuzzHeaders(random))
  let origin: Origin
  before(async () => {
    origin = await startOrigin({
      '*': (req, res) => {
        const n = Number(req.url?.split('/')[2])
        res.sendDate = false
        for (const [name, value] of cases[n] ?? []) res.appendHeader(name, value)
        res.end(`case ${n}`)
      },
    })
  })
  after(() => origin.close())

  for (const [name, makeFront] of [
    ['cached fetch', fetchFront],
    ['undici.request + cacheInterceptor', undiciFront],
  ] as const) {
    it(`${ORIGIN_CASES} cases through ${name}: every request answered with the origin's body, nothing reported`, async () => {
      const reported: Error[] = []
      const options: CacheOptions = { backend: 'memory', cacheControl: true, onError: (e) => void reported.push(e) }
      const front = makeFront(options)
      let hits = 0
      try {
        for (const [n, pairs] of cases.entries()) {
          for (let i = 0; i < 2; i++) {
            const url = `${origin.url}/${name.length}/${n}`
            try {
              const response = await front.get(url)
              assert.equal(response.status, 200)
              assert.equal(await readAll(response.body), `case ${n}`)
              if (response.hit) hits++
            } catch (error) {
              throw new Error(`case ${n} (${JSON.stringify(pairs)}): ${(error as Error).message}`, { cause: error })
            }
          }
        }
      } finally {
        await front.close()
      }
      assert.deepEqual(
        reported.map((e) => e.message),
        [],
      )
      assert.ok(hits > 0 && hits < ORIGIN_CASES, `${hits} hits: some cases are cacheable, some not`)
    })
  }
})
