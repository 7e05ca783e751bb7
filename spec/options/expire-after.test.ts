/**
 * Expiry values and URL rules. The URL tables are ported from requests-cache
 * tests/unit/policy/test_expiration.py (test_get_url_expiration*), rewritten for our API.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../../lib/errors.js'
import { createCachedFetch } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import {
  compileUrlRules,
  DO_NOT_CACHE,
  EXPIRE_IMMEDIATELY,
  type Expiry,
  expiresAt,
  NEVER_EXPIRE,
  parseDuration,
  parseExpireAfter,
  parseStaleLimit,
} from '../../lib/options/expire-after.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

const S = 1000

describe('parseExpireAfter', () => {
  const rows: [unknown, Expiry][] = [
    [60, { kind: 'duration', ms: 60 * S }],
    [33.3, { kind: 'duration', ms: 33_300 }],
    [NEVER_EXPIRE, { kind: 'never' }],
    [EXPIRE_IMMEDIATELY, { kind: 'immediately' }],
    [DO_NOT_CACHE, { kind: 'skip' }],
    ['90s', { kind: 'duration', ms: 90 * S }],
    ['5m', { kind: 'duration', ms: 300 * S }],
    ['1h30m', { kind: 'duration', ms: 5400 * S }],
    ['7d', { kind: 'duration', ms: 7 * 86_400 * S }],
    ['2w', { kind: 'duration', ms: 14 * 86_400 * S }],
    ['250ms', { kind: 'duration', ms: 250 }],
    ['1h 30m', { kind: 'duration', ms: 5400 * S }],
    ['0s', { kind: 'immediately' }],
    [new Date(Date.UTC(2030, 0, 1)), { kind: 'date', at: Date.UTC(2030, 0, 1) }],
    // RFC 9111 §1.2.2's cap on delta-seconds, 2^31 s: an expiry stays a valid Date, a ttl an integer.
    [Number.MAX_SAFE_INTEGER, { kind: 'duration', ms: 2 ** 31 * S }],
    [1e300, { kind: 'duration', ms: 2 ** 31 * S }],
    [`${'9'.repeat(400)}s`, { kind: 'duration', ms: 2 ** 31 * S }],
  ]
  for (const [value, expected] of rows) {
    const shown = value instanceof Date ? value.toISOString() : JSON.stringify(value).slice(0, 24)
    test(`${shown} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseExpireAfter('expireAfter', value), expected)
    })
  }

  const bad: [unknown, typeof InvalidOptionTypeError | typeof InvalidOptionValueError][] = [
    [-3, InvalidOptionValueError],
    [Number.NaN, InvalidOptionValueError],
    [Number.POSITIVE_INFINITY, InvalidOptionValueError],
    ['tomorrow', InvalidOptionValueError],
    ['5 minutes', InvalidOptionValueError],
    ['', InvalidOptionValueError],
    ['P1D', InvalidOptionValueError],
    [new Date('nope'), InvalidOptionValueError],
    [true, InvalidOptionTypeError],
    [null, InvalidOptionTypeError],
    [{ seconds: 5 }, InvalidOptionTypeError],
  ]
  for (const [value, kind] of bad) {
    test(`${String(value)} is refused with ${kind.name} naming the option`, () => {
      assert.throws(
        () => parseExpireAfter('expireAfter', value),
        (error: unknown) => error instanceof kind && error.option === 'expireAfter' && Object.is(error.value, value),
      )
    })
  }

  test('parseDuration sums its parts and refuses anything else', () => {
    assert.equal(parseDuration('1d2h3m4s5ms'), 86_400_000 + 7_200_000 + 180_000 + 4000 + 5)
    assert.equal(parseDuration('1.5h'), 5_400_000)
    assert.equal(parseDuration('5'), undefined)
    assert.equal(parseDuration('m5'), undefined)
  })

  test('expiresAt turns an expiry into an absolute time (requests-cache test_get_expiration_datetime_*)', () => {
    const now = Date.UTC(2025, 0, 1)
    assert.equal(expiresAt({ kind: 'never' }, now), null)
    assert.equal(expiresAt({ kind: 'immediately' }, now), now)
    assert.equal(expiresAt({ kind: 'duration', ms: 60 * S }, now), now + 60 * S)
    assert.equal(expiresAt({ kind: 'date', at: now - S }, now), now - S)
  })
})

describe('an expireAfter beyond 2^31 s (a "forever" such as Number.MAX_SAFE_INTEGER)', () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin()
    origin.route('/forever', (_req, res) => void res.end('kept'))
  })
  after(() => origin.close())

  for (const expireAfter of [Number.MAX_SAFE_INTEGER, 1e300, `${'9'.repeat(400)}s`]) {
    test(`${String(expireAfter).slice(0, 24)}: a hit carries a valid expiry Date and an integer Cache-Status ttl`, async () => {
      const cachedFetch = createCachedFetch({ backend: 'memory', expireAfter })
      await (await cachedFetch(`${origin.url}/forever`)).text()
      const hit = await cachedFetch(`${origin.url}/forever`)
      assert.equal(await hit.text(), 'kept')
      const info = cacheInfo(hit)
      assert.equal(info?.fromCache, true)
      assert.match(info?.expires?.toISOString() ?? '', /^2\d{3}-/, 'about 68 years from now')
      assert.match(hit.headers.get('cache-status') ?? '', /; ttl=\d{1,15}$/)
    })
  }
})

describe('parseStaleLimit', () => {
  const rows: [unknown, number][] = [
    [false, 0],
    [true, Number.POSITIVE_INFINITY],
    [NEVER_EXPIRE, Number.POSITIVE_INFINITY],
    [30, 30 * S],
    ['5m', 300 * S],
    [EXPIRE_IMMEDIATELY, 0],
  ]
  for (const [value, ms] of rows) {
    test(`${JSON.stringify(value)} → ${ms} ms`, () => assert.equal(parseStaleLimit('staleIfError', value), ms))
  }
  test('a Date is no duration', () => {
    assert.throws(() => parseStaleLimit('staleIfError', new Date()), InvalidOptionValueError)
  })
})

/** The first matching rule's expiry, as requests-cache's get_url_expiration returns it. */
function urlExpiry(rules: ReturnType<typeof compileUrlRules>, url: string): Expiry | undefined {
  return rules.find((rule) => rule.test(url))?.expiry
}
const seconds = (s: number): Expiry => ({ kind: 'duration', ms: s * S })

describe('urlsExpireAfter rules (test_get_url_expiration)', () => {
  const rules = compileUrlRules('urlsExpireAfter', [
    ['*.site_1.com', 3600],
    ['site_2.com/resource_1', 7200],
    ['site_2.com/resource_2', 86_400],
    [/site_2\.com\/api\/resource\/\d+/, 604_800],
    ['site_2.com/static', NEVER_EXPIRE],
  ])
  const rows: [string, Expiry | undefined][] = [
    ['img.site_1.com', seconds(3600)],
    ['http://img.site_1.com/base/img.jpg', seconds(3600)],
    ['https://img.site_2.com/base/img.jpg', undefined],
    ['site_2.com/resource_1', seconds(7200)],
    ['http://site_2.com/resource_1/index.html', seconds(7200)],
    ['http://site_2.com/resource_2/', seconds(86_400)],
    ['http://site_2.com/static/', { kind: 'never' }],
    ['http://site_2.com/api/resource/123', seconds(604_800)],
    ['http://site_2.com/api/resource/xyz', undefined],
    ['http://site_2.com/static/img.jpg', { kind: 'never' }],
    ['site_2.com', undefined],
    ['some_other_site.com', undefined],
  ]
  for (const [url, expected] of rows) {
    test(`${url} → ${JSON.stringify(expected)}`, () => assert.deepEqual(urlExpiry(rules, url), expected))
  }
})

describe('urlsExpireAfter: the first match wins (test_get_url_expiration__evaluation_order)', () => {
  const rules = compileUrlRules('urlsExpireAfter', { '*.site_1.com/resource': 7200, '*.site_1.com': 3600, '*': 1 })
  const rows: [string, Expiry][] = [
    ['https://img.site_1.com/image.jpeg', seconds(3600)],
    ['https://img.site_1.com/resource/1', seconds(7200)],
    ['https://site_2.com', seconds(1)],
    ['https://any_other_site.com', seconds(1)],
  ]
  for (const [url, expected] of rows) {
    test(`${url} → ${JSON.stringify(expected)}`, () => assert.deepEqual(urlExpiry(rules, url), expected))
  }
})

describe('urlsExpireAfter: patterns', () => {
  test('a glob is a prefix of the URL without its scheme; a scheme in the glob is ignored too', () => {
    const rules = compileUrlRules('urlsExpireAfter', { 'https://example.com/a': 5 })
    assert.ok(rules[0]?.test('http://example.com/a/b'))
    assert.ok(!rules[0]?.test('http://www.example.com/a'))
  })

  test('? matches one character and regex metacharacters in globs are literal', () => {
    const rules = compileUrlRules('urlsExpireAfter', { 'example.com/v?/x.json': 5 })
    assert.ok(rules[0]?.test('https://example.com/v1/x.json'))
    assert.ok(!rules[0]?.test('https://example.com/v1/xajson'))
  })

  test('a RegExp is searched anywhere in the whole URL (scheme included), its g flag ignored', () => {
    const rules = compileUrlRules('urlsExpireAfter', [[/^https:/g, 5]])
    assert.ok(rules[0]?.test('https://a.com/'))
    assert.ok(rules[0]?.test('https://a.com/'), 'a global RegExp keeps no lastIndex between tests')
    assert.ok(!rules[0]?.test('http://a.com/'))
  })

  test('bad rules are refused with an error naming the rule', () => {
    assert.throws(
      () => compileUrlRules('urlsExpireAfter', { 'a.com': 'soon' }),
      (error: unknown) => error instanceof InvalidOptionValueError && error.option === 'urlsExpireAfter["a.com"]',
    )
    assert.throws(
      () => compileUrlRules('urlsExpireAfter', [['a.com']]),
      (error: unknown) => error instanceof InvalidOptionTypeError && error.option === 'urlsExpireAfter[0]',
    )
    assert.throws(() => compileUrlRules('urlsExpireAfter', [[42, 5]]), InvalidOptionTypeError)
    assert.throws(() => compileUrlRules('urlsExpireAfter', 'a.com'), InvalidOptionTypeError)
  })
})
