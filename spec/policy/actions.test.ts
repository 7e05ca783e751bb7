/**
 * The decisions of lib/policy/actions.ts as data tables.
 *
 * Cases ported from requests-cache tests/unit/policy/test_actions.py (and the policy cases of
 * tests/unit/test_session.py), rewritten for our API. Where we deliberately differ, the row says so
 * in `note`: our documented precedence and RFC 9111 win over requests-cache where the two disagree.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CacheEntry } from '../../lib/entry/entry.js'
import { DO_NOT_CACHE, EXPIRE_IMMEDIATELY, type Expiry, NEVER_EXPIRE } from '../../lib/options/expire-after.js'
import { LiveSettings } from '../../lib/options/live.js'
import { validateRequestOptions } from '../../lib/options/settings.js'
import type { CacheSettings, RequestCacheOptions, ResolvedSettings } from '../../lib/options/types.js'
import {
  type CachedAction,
  type CachePlan,
  decideCached,
  isOriginError,
  mayServeOnError,
  planRequest,
  type RequestPlan,
} from '../../lib/policy/actions.js'
import { decideWrite, type WriteDecision } from '../../lib/policy/write.js'
import type { RequestCacheMode } from '../../lib/request/from-fetch.js'
import { makeEntry, T0 } from '../helpers/entries.js'

const S = 1000
const H = 3600 * S
const ETAG = '"abc123"'
const LAST_MODIFIED = 'Wed, 01 Jan 2025 00:00:00 GMT'

function settingsOf(options: Partial<CacheSettings> = {}): ResolvedSettings {
  return new LiveSettings(options).resolved
}

function plan(
  options: {
    url?: string
    method?: string
    headers?: Record<string, string>
    mode?: RequestCacheMode
    cacheOptions?: RequestCacheOptions
  },
  settings: ResolvedSettings,
): RequestPlan {
  return planRequest(
    {
      method: options.method ?? 'GET',
      url: options.url ?? 'https://img.site.com/base/img.jpg',
      headers: new Headers(options.headers),
      mode: options.mode,
      options: validateRequestOptions(options.cacheOptions),
      unkeyableBody: false,
    },
    settings,
  )
}

function cachePlan(...args: Parameters<typeof plan>): CachePlan {
  const result = plan(...args)
  assert.equal(result.kind, 'cache', `expected a cache plan, got ${JSON.stringify(result)}`)
  return result as CachePlan
}

const seconds = (s: number): Expiry => ({ kind: 'duration', ms: s * S })
const NEVER: Expiry = { kind: 'never' }
const IMMEDIATELY: Expiry = { kind: 'immediately' }

describe('planRequest: expiry precedence (test_init)', () => {
  // requests-cache tests/unit/test_cache_control.py test_init, as it was when header expiry arrived
  // (6257a50): [per-request expireAfter, urlsExpireAfter match, request max-age, expected], with
  // expireAfter 1 and cacheControl on. The request's max-age first, then per request, per URL, session.
  const rows: [number | undefined, number | undefined, number | undefined, number][] = [
    [undefined, undefined, undefined, 1],
    [2, undefined, undefined, 2],
    [2, 3, undefined, 2],
    [undefined, 3, undefined, 3],
    [2, 3, 4, 4],
    [2, undefined, 4, 4],
    [undefined, 3, 4, 4],
    [undefined, undefined, 4, 4],
  ]
  for (const [perRequest, urlExpiry, requestMaxAge, expected] of rows) {
    const name = `per request ${perRequest ?? '-'}, URL rule ${urlExpiry ?? '-'}, request max-age ${requestMaxAge ?? '-'}`
    test(`${name} → ${expected}s`, () => {
      const settings = settingsOf({
        cacheControl: true,
        expireAfter: 1,
        urlsExpireAfter: urlExpiry === undefined ? {} : { 'img.site.com': urlExpiry },
      })
      const headers: Record<string, string> = requestMaxAge === undefined ? {} : { 'cache-control': `max-age=${requestMaxAge}` }
      const cacheOptions = perRequest === undefined ? {} : { expireAfter: perRequest }
      const result = cachePlan({ headers, cacheOptions }, settings)
      assert.deepEqual(result.ruleExpiry, seconds(expected))
      assert.equal(result.ruleExplicit, true)
    })
  }
})

describe('planRequest: request Cache-Control (test_init_from_headers, cacheControl on)', () => {
  const settings = settingsOf({ cacheControl: true })
  const rows: { headers: Record<string, string>; expiry: Expiry; revalidate?: boolean; note?: string }[] = [
    { headers: {}, expiry: NEVER },
    { headers: { expires: 'Wed, 21 Oct 2015 07:28:00 GMT' }, expiry: NEVER, note: 'Expires only counts in responses' },
    { headers: { 'cache-control': 'max-age=60' }, expiry: seconds(60) },
    { headers: { 'cache-control': 'public, max-age=60' }, expiry: seconds(60) },
    { headers: { 'cache-control': 'max-age=0' }, expiry: IMMEDIATELY, revalidate: true },
  ]
  for (const row of rows) {
    test(`${JSON.stringify(row.headers)} → ${JSON.stringify(row.expiry)}${row.note ? ` (${row.note})` : ''}`, () => {
      const result = cachePlan({ headers: row.headers }, settings)
      assert.deepEqual(result.ruleExpiry, row.expiry)
      assert.equal(result.read, true)
      assert.equal(result.write, true)
      assert.equal(result.revalidate, row.revalidate ?? false)
    })
  }

  test('request no-store skips both read and write', () => {
    assert.deepEqual(plan({ headers: { 'cache-control': 'no-store' } }, settings), { kind: 'bypass', reason: 'request no-store' })
  })
})

describe('planRequest: expiry by URL (test_init_from_settings)', () => {
  const settings = settingsOf({
    expireAfter: 1,
    urlsExpireAfter: {
      '*.site_1.com': 12 * 3600,
      'site_2.com/resource_1': 20 * 3600,
      'site_2.com/resource_2': '7d',
      'site_2.com/static': NEVER_EXPIRE,
    },
  })
  const rows: [string, number | undefined, Expiry][] = [
    ['https://img.site_1.com', undefined, seconds(12 * 3600)],
    ['https://img.site_1.com', 60, seconds(60)],
    ['https://img.site.com/base/', undefined, seconds(1)],
    ['https://img.site.com/base/img.jpg', undefined, seconds(1)],
    ['http://site_2.com/resource_1', undefined, seconds(20 * 3600)],
    ['ftp://site_2.com/resource_1/index.html', undefined, seconds(20 * 3600)],
    ['http://site_2.com/resource_2/', undefined, { kind: 'duration', ms: 7 * 24 * H }],
    ['http://site_2.com/static/', undefined, NEVER],
    ['http://site_2.com/static/img.jpg', undefined, NEVER],
    ['http://site_2.com', undefined, seconds(1)],
    ['http://site_2.com', 60, seconds(60)],
    ['https://some_other_site.com', undefined, seconds(1)],
    ['https://some_other_site.com', 60, seconds(60)],
  ]
  for (const [url, requestMaxAge, expected] of rows) {
    test(`${url}${requestMaxAge ? ` with max-age=${requestMaxAge}` : ''} → ${JSON.stringify(expected)}`, () => {
      const headers: Record<string, string> = requestMaxAge === undefined ? {} : { 'cache-control': `max-age=${requestMaxAge}` }
      assert.deepEqual(cachePlan({ url: new URL(url).href, headers }, settings).ruleExpiry, expected)
    })
  }

  test('DO_NOT_CACHE as the last rule makes an allow-list', () => {
    const allowList = settingsOf({
      urlsExpireAfter: [
        ['site.com/api', 60],
        ['*', DO_NOT_CACHE],
      ],
    })
    assert.equal(plan({ url: 'https://site.com/api/x' }, allowList).kind, 'cache')
    assert.deepEqual(plan({ url: 'https://site.com/other' }, allowList), { kind: 'bypass', reason: 'DO_NOT_CACHE' })
  })

  test('a request max-age does not lift DO_NOT_CACHE (requests-cache lets it); a per-request expireAfter does', () => {
    const allowList = settingsOf({
      urlsExpireAfter: [
        ['site.com/api', 60],
        ['*', DO_NOT_CACHE],
      ],
    })
    const other = 'https://site.com/other'
    assert.equal(plan({ url: other, headers: { 'cache-control': 'max-age=60' } }, allowList).kind, 'bypass')
    assert.equal(plan({ url: other, cacheOptions: { expireAfter: 60 } }, allowList).kind, 'cache')
    assert.equal(
      plan({ url: other }, settingsOf({ expireAfter: DO_NOT_CACHE, urlsExpireAfter: { 'site.com/other': 5 } })).kind,
      'cache',
    )
  })
})

describe('planRequest: settings and request headers together (test_init_from_settings_and_headers, cacheControl off)', () => {
  const rows: {
    headers: Record<string, string>
    expireAfter: number
    expiry: Expiry | 'bypass'
    read?: boolean
    revalidate?: boolean
    note?: string
  }[] = [
    { headers: { 'cache-control': 'max-age=60' }, expireAfter: 1, expiry: seconds(60) },
    { headers: {}, expireAfter: 1, expiry: seconds(1) },
    { headers: {}, expireAfter: EXPIRE_IMMEDIATELY, expiry: IMMEDIATELY },
    { headers: { 'cache-control': 'max-age=0' }, expireAfter: 1, expiry: IMMEDIATELY, revalidate: true },
    { headers: { 'cache-control': 'no-store' }, expireAfter: 1, expiry: 'bypass' },
    {
      headers: { 'cache-control': 'no-cache' },
      expireAfter: 1,
      expiry: seconds(1),
      revalidate: true,
      note: 'requests-cache skips the read; we revalidate the entry (RFC 9111 §5.2.1.4), conditionally when it has a validator',
    },
    { headers: { pragma: 'no-cache' }, expireAfter: 1, expiry: seconds(1), revalidate: true, note: 'RFC 9111 §5.4' },
    {
      headers: { pragma: 'no-cache', 'cache-control': 'max-age=5' },
      expireAfter: 1,
      expiry: seconds(5),
      note: 'Pragma is ignored beside Cache-Control',
    },
  ]
  for (const row of rows) {
    test(`${JSON.stringify(row.headers)}, expireAfter ${row.expireAfter} → ${JSON.stringify(row.expiry)}${row.note ? ` (${row.note})` : ''}`, () => {
      const result = plan({ headers: row.headers }, settingsOf({ expireAfter: row.expireAfter }))
      if (row.expiry === 'bypass') {
        assert.equal(result.kind, 'bypass')
        return
      }
      assert.equal(result.kind, 'cache')
      const cache = result as CachePlan
      assert.deepEqual(cache.ruleExpiry, row.expiry)
      assert.equal(cache.read, row.read ?? true)
      assert.equal(cache.revalidate, row.revalidate ?? false)
    })
  }
})

describe('planRequest: request directives we do not act on change nothing (test_ignored_headers)', () => {
  for (const directive of ['no-transform', 'private', 'proxy-revalidate', 'public', 's-maxage=10']) {
    test(directive, () => {
      const result = cachePlan({ headers: { 'cache-control': directive } }, settingsOf({ expireAfter: 1, cacheControl: true }))
      assert.deepEqual(result.ruleExpiry, seconds(1))
      assert.equal(result.read, true)
      assert.equal(result.write, true)
      assert.equal(result.revalidate, false)
    })
  }
})

describe('planRequest: modes and per-request options', () => {
  const settings = settingsOf()
  const rows: {
    what: string
    mode?: RequestCacheMode
    cacheOptions?: RequestCacheOptions
    expect: Partial<CachePlan> | 'bypass'
  }[] = [
    { what: "cache: 'no-store'", mode: 'no-store', expect: 'bypass' },
    { what: "cache: 'reload'", mode: 'reload', expect: { read: false, write: true } },
    { what: 'forceRefresh', cacheOptions: { forceRefresh: true }, expect: { read: false, write: true } },
    { what: "cache: 'no-cache'", mode: 'no-cache', expect: { read: true, revalidate: true } },
    { what: 'refresh', cacheOptions: { refresh: true }, expect: { read: true, revalidate: true } },
    { what: "cache: 'force-cache'", mode: 'force-cache', expect: { anyAge: true, onlyIfCached: false } },
    { what: "cache: 'only-if-cached'", mode: 'only-if-cached', expect: { anyAge: true, onlyIfCached: true } },
    { what: 'onlyIfCached', cacheOptions: { onlyIfCached: true }, expect: { anyAge: false, onlyIfCached: true } },
    {
      what: 'onlyIfCached beats forceRefresh: there is no network to refresh from',
      cacheOptions: { onlyIfCached: true, forceRefresh: true },
      expect: { read: true, onlyIfCached: true },
    },
    { what: 'expireAfter DO_NOT_CACHE', cacheOptions: { expireAfter: DO_NOT_CACHE }, expect: 'bypass' },
    { what: 'staleIfError as a duration', cacheOptions: { staleIfError: '5m' }, expect: { staleIfError: 300 * S } },
    {
      what: 'staleWhileRevalidate true',
      cacheOptions: { staleWhileRevalidate: true },
      expect: { staleWhileRevalidate: Number.POSITIVE_INFINITY },
    },
  ]
  for (const row of rows) {
    test(row.what, () => {
      const result = plan(
        { ...(row.mode ? { mode: row.mode } : {}), ...(row.cacheOptions ? { cacheOptions: row.cacheOptions } : {}) },
        settings,
      )
      if (row.expect === 'bypass') return assert.equal(result.kind, 'bypass')
      assert.equal(result.kind, 'cache')
      for (const [name, value] of Object.entries(row.expect)) assert.deepEqual(result[name as keyof typeof result], value, name)
    })
  }

  test('methods outside allowableMethods and disabled bypass', () => {
    assert.deepEqual(plan({ method: 'POST' }, settings), { kind: 'bypass', reason: 'method POST' })
    assert.deepEqual(plan({}, settingsOf({ disabled: true })), { kind: 'bypass', reason: 'disabled' })
  })

  test('readOnly reads but never writes', () => {
    const result = cachePlan({}, settingsOf({ readOnly: true }))
    assert.equal(result.read, true)
    assert.equal(result.write, false)
  })
})

// An entry that expired 10 s before NOW unless stated otherwise.
const NOW = T0 + 3600 * S
const entryWith = (headers: [string, string][], expires: number | null): CacheEntry => makeEntry({ headers, expires })
const EXPIRED = (headers: [string, string][] = []) => entryWith(headers, NOW - 10 * S)

describe('decideCached: what to do with the stored entry (test_update_from_cached_response_*)', () => {
  const settings = settingsOf()
  const basic = cachePlan({}, settings)

  test('nothing stored: send the request', () => {
    assert.deepEqual(decideCached(basic, undefined, settings, NOW), { kind: 'fetch' })
  })

  test('an expired entry without a validator: send the request again', () => {
    assert.deepEqual(decideCached(basic, EXPIRED(), settings, NOW), { kind: 'fetch' })
  })

  const validators: [[string, string][], Record<string, string>][] = [
    [[['etag', ETAG]], { 'if-none-match': ETAG }],
    [[['last-modified', LAST_MODIFIED]], { 'if-modified-since': LAST_MODIFIED }],
    [
      [
        ['etag', ETAG],
        ['last-modified', LAST_MODIFIED],
      ],
      { 'if-none-match': ETAG, 'if-modified-since': LAST_MODIFIED },
    ],
  ]
  for (const [headers, conditional] of validators) {
    test(`an expired entry with ${headers.map(([n]) => n).join(' + ')} is revalidated with ${Object.keys(conditional).join(' + ')}`, () => {
      assert.deepEqual(decideCached(basic, EXPIRED(headers), settings, NOW), { kind: 'revalidate', headers: conditional })
    })
  }

  test('a fresh entry with validators is served without revalidation', () => {
    const fresh = entryWith(
      [
        ['etag', ETAG],
        ['last-modified', LAST_MODIFIED],
      ],
      null,
    )
    assert.deepEqual(decideCached(basic, fresh, settings, NOW), { kind: 'serve', stale: false })
  })

  for (const cacheControl of [true, false]) {
    test(`a stored response with Cache-Control: no-cache is ${cacheControl ? 'revalidated' : 'served'} with cacheControl ${cacheControl}`, () => {
      const s = settingsOf({ cacheControl })
      const entry = entryWith(
        [
          ['etag', ETAG],
          ['cache-control', 'no-cache'],
        ],
        null,
      )
      const expected: CachedAction = cacheControl
        ? { kind: 'revalidate', headers: { 'if-none-match': ETAG } }
        : { kind: 'serve', stale: false }
      assert.deepEqual(decideCached(cachePlan({}, s), entry, s, NOW), expected)
    })
  }

  test('must-revalidate applies once the entry is stale (RFC 9111 §5.2.2.2; requests-cache revalidates even fresh ones)', () => {
    const s = settingsOf({ cacheControl: true, staleWhileRevalidate: true })
    const headers: [string, string][] = [
      ['etag', ETAG],
      ['cache-control', 'max-age=0, must-revalidate'],
    ]
    assert.deepEqual(decideCached(cachePlan({}, s), entryWith(headers, null), s, NOW), { kind: 'serve', stale: false })
    assert.deepEqual(decideCached(cachePlan({}, s), EXPIRED(headers), s, NOW), {
      kind: 'revalidate',
      headers: { 'if-none-match': ETAG },
    })
  })

  test('onlyIfCached with an expired entry: 504', () => {
    const s = settingsOf({ onlyIfCached: true })
    assert.deepEqual(decideCached(cachePlan({}, s), EXPIRED(), s, NOW), { kind: 'not-cached' })
  })

  test('onlyIfCached with staleIfError serves the expired entry', () => {
    const s = settingsOf({ onlyIfCached: true, staleIfError: true })
    assert.deepEqual(decideCached(cachePlan({}, s), EXPIRED(), s, NOW), { kind: 'serve', stale: true })
  })

  test('onlyIfCached with staleWhileRevalidate serves the expired entry (and, offline, does not refresh it)', () => {
    const s = settingsOf({ onlyIfCached: true, staleWhileRevalidate: true })
    assert.deepEqual(decideCached(cachePlan({}, s), EXPIRED(), s, NOW), { kind: 'serve', stale: true })
  })

  test('onlyIfCached beats refresh for a fresh entry (test_request_only_if_cached__skips_revalidate)', () => {
    const s = settingsOf()
    const p = cachePlan({ cacheOptions: { onlyIfCached: true, refresh: true } }, s)
    assert.deepEqual(decideCached(p, entryWith([['etag', ETAG]], null), s, NOW), { kind: 'serve', stale: false })
  })

  test('refresh without a validator sends a plain request (test_request_refresh__no_validator)', () => {
    const p = cachePlan({ cacheOptions: { refresh: true } }, settings)
    assert.deepEqual(decideCached(p, entryWith([], null), settings, NOW), { kind: 'fetch' })
  })

  test('alwaysRevalidate revalidates a fresh entry with a validator, and serves one without', () => {
    const s = settingsOf({ alwaysRevalidate: true })
    const p = cachePlan({}, s)
    assert.deepEqual(decideCached(p, entryWith([['etag', ETAG]], null), s, NOW), {
      kind: 'revalidate',
      headers: { 'if-none-match': ETAG },
    })
    assert.deepEqual(decideCached(p, entryWith([], null), s, NOW), { kind: 'serve', stale: false })
  })

  test('alwaysRevalidate leaves a fresh immutable response alone (cacheControl on)', () => {
    const s = settingsOf({ alwaysRevalidate: true, cacheControl: true })
    const entry = entryWith(
      [
        ['etag', ETAG],
        ['cache-control', 'max-age=600, immutable'],
      ],
      NOW + 600 * S,
    )
    assert.deepEqual(decideCached(cachePlan({}, s), entry, s, NOW), { kind: 'serve', stale: false })
  })

  test("cache: 'force-cache' serves even an expired entry", () => {
    assert.deepEqual(decideCached(cachePlan({ mode: 'force-cache' }, settings), EXPIRED(), settings, NOW), {
      kind: 'serve',
      stale: true,
    })
  })
})

describe('decideCached: request directives (test_is_usable_*)', () => {
  const settings = settingsOf()
  const rows: { what: string; header: string; expires: number; expect: CachedAction['kind'] }[] = [
    // An entry that expired 10 s ago.
    { what: 'max-stale=5, expired 10 s ago', header: 'max-stale=5', expires: NOW - 10 * S, expect: 'fetch' },
    { what: 'max-stale=15, expired 10 s ago', header: 'max-stale=15', expires: NOW - 10 * S, expect: 'serve' },
    { what: 'bare max-stale accepts any staleness', header: 'max-stale', expires: NOW - 1000 * S, expect: 'serve' },
    // An entry that expires in 10 s.
    { what: 'min-fresh=5, expires in 10 s', header: 'min-fresh=5', expires: NOW + 10 * S, expect: 'serve' },
    { what: 'min-fresh=15, expires in 10 s', header: 'min-fresh=15', expires: NOW + 10 * S, expect: 'fetch' },
    // stale-while-revalidate as a request directive (requests-cache reads it there too).
    {
      what: 'stale-while-revalidate=5, expired 10 s ago',
      header: 'stale-while-revalidate=5',
      expires: NOW - 10 * S,
      expect: 'fetch',
    },
    {
      what: 'stale-while-revalidate=15, expired 10 s ago',
      header: 'stale-while-revalidate=15',
      expires: NOW - 10 * S,
      expect: 'serve-stale-and-refresh',
    },
    // stale-if-error only counts once the origin failed.
    { what: 'stale-if-error=15 without an error', header: 'stale-if-error=15', expires: NOW - 10 * S, expect: 'fetch' },
  ]
  for (const row of rows) {
    test(`${row.what} → ${row.expect}`, () => {
      const p = cachePlan({ headers: { 'cache-control': row.header } }, settings)
      assert.equal(decideCached(p, entryWith([], row.expires), settings, NOW).kind, row.expect)
    })
  }

  test('request max-age: an entry older than it is not fresh for this request', () => {
    const entry = makeEntry({ headers: [], requestTime: NOW - 120 * S, responseTime: NOW - 120 * S, expires: null })
    assert.equal(
      decideCached(cachePlan({ headers: { 'cache-control': 'max-age=60' } }, settings), entry, settings, NOW).kind,
      'fetch',
    )
    assert.equal(
      decideCached(cachePlan({ headers: { 'cache-control': 'max-age=600' } }, settings), entry, settings, NOW).kind,
      'serve',
    )
  })
})

describe('mayServeOnError: stale-if-error (test_is_usable__stale_if_error, test_stale_if_error_*)', () => {
  const rows: {
    what: string
    settings: Partial<CacheSettings>
    header?: string
    cacheOptions?: RequestCacheOptions
    expires: number
    usable: boolean
  }[] = [
    {
      what: 'request stale-if-error=5, expired 10 s ago',
      settings: {},
      header: 'stale-if-error=5',
      expires: NOW - 10 * S,
      usable: false,
    },
    {
      what: 'request stale-if-error=15, expired 10 s ago',
      settings: {},
      header: 'stale-if-error=15',
      expires: NOW - 10 * S,
      usable: true,
    },
    { what: 'staleIfError true', settings: { staleIfError: true }, expires: NOW - 1000 * H, usable: true },
    { what: 'staleIfError 15 s, expired 10 s ago', settings: { staleIfError: 15 }, expires: NOW - 10 * S, usable: true },
    { what: 'staleIfError 5 s, expired 10 s ago', settings: { staleIfError: 5 }, expires: NOW - 10 * S, usable: false },
    { what: 'staleIfError off', settings: {}, expires: NOW - 10 * S, usable: false },
    {
      what: 'per-request staleIfError beats the setting',
      settings: { staleIfError: 5 },
      cacheOptions: { staleIfError: '1m' },
      expires: NOW - 10 * S,
      usable: true,
    },
  ]
  for (const row of rows) {
    test(`${row.what} → ${row.usable ? 'serve stale' : 'fail'}`, () => {
      const s = settingsOf(row.settings)
      const p = cachePlan(
        {
          ...(row.header ? { headers: { 'cache-control': row.header } } : {}),
          ...(row.cacheOptions ? { cacheOptions: row.cacheOptions } : {}),
        },
        s,
      )
      assert.equal(mayServeOnError(p, entryWith([], row.expires), s, NOW), row.usable)
    })
  }

  test("must-revalidate and no-cache forbid serving stale on error, even with the response's own stale-if-error (RFC 9111 §4.2.4; cacheControl on)", () => {
    const s = settingsOf({ cacheControl: true, staleIfError: true })
    const p = cachePlan({}, s)
    assert.equal(mayServeOnError(p, EXPIRED([['cache-control', 'max-age=1, must-revalidate']]), s, NOW), false)
    assert.equal(mayServeOnError(p, EXPIRED([['cache-control', 'max-age=1, must-revalidate, stale-if-error=60']]), s, NOW), false)
    assert.equal(mayServeOnError(p, EXPIRED([['cache-control', 'max-age=1, no-cache, stale-if-error=60']]), s, NOW), false)
    assert.equal(mayServeOnError(p, EXPIRED([['cache-control', 'max-age=1, stale-if-error=60']]), s, NOW), true)
  })

  test('a 5xx is an error unless allowableCodes lists it (test_stale_if_error__error_code_in_allowable_codes)', () => {
    assert.equal(isOriginError(500, settingsOf()), true)
    assert.equal(isOriginError(503, settingsOf({ allowableCodes: [200, 503] })), false)
    assert.equal(isOriginError(404, settingsOf()), false)
  })
})

describe('decideWrite: response headers (test_update_from_response_*)', () => {
  const DATE = new Date(NOW).toUTCString()
  const LATER = new Date(NOW + 2 * H).toUTCString()
  const write = (
    headers: Record<string, string>,
    settings: ResolvedSettings,
    p: CachePlan = cachePlan({}, settings),
    status = 200,
  ): WriteDecision =>
    decideWrite(
      p,
      { status, headers: new Headers({ date: DATE, ...headers }), requestTime: NOW, responseTime: NOW },
      settings,
      NOW,
    )
  const cc = settingsOf({ cacheControl: true })
  const rows: { headers: Record<string, string>; expect: WriteDecision; note?: string }[] = [
    {
      headers: {},
      expect: { store: false, reason: 'no freshness information, no validator' },
      note: 'requests-cache stores forever; an RFC 9111 cache needs freshness or a validator',
    },
    { headers: { etag: ETAG }, expect: { store: true, expires: NOW }, note: 'no freshness information: stored to revalidate' },
    {
      headers: { 'cache-control': 'no-cache', etag: ETAG },
      expect: { store: true, expires: NOW },
      note: 'every use revalidates',
    },
    {
      headers: { 'cache-control': 'no-cache' },
      expect: { store: true, expires: NOW },
      note: 'revalidated with its Date; an origin out of reach then gives a 504 (RFC 9111 §4.2.4)',
    },
    { headers: { 'cache-control': 'max-age=0' }, expect: { store: false, reason: 'stale on arrival, no validator' } },
    { headers: { 'cache-control': 'max-age=60' }, expect: { store: true, expires: NOW + 60 * S } },
    { headers: { 'cache-control': 'public, max-age=60' }, expect: { store: true, expires: NOW + 60 * S } },
    {
      headers: { 'cache-control': 'immutable' },
      expect: { store: false, reason: 'no freshness information, no validator' },
      note: 'requests-cache stores it forever; RFC 8246 §2: immutable gives no freshness of its own',
    },
    {
      headers: { 'cache-control': 'immutable, max-age=60' },
      expect: { store: true, expires: NOW + 60 * S },
      note: 'requests-cache lets immutable win; RFC 8246 keeps max-age as the lifetime',
    },
    { headers: { expires: LATER }, expect: { store: true, expires: NOW + 2 * H } },
    { headers: { expires: LATER, 'cache-control': 'max-age=60' }, expect: { store: true, expires: NOW + 60 * S } },
    { headers: { 'cache-control': 'max-age=60', age: '20' }, expect: { store: true, expires: NOW + 40 * S }, note: 'Age counts' },
    { headers: { 'cache-control': 'no-store' }, expect: { store: false, reason: 'response no-store' } },
    { headers: { vary: '*' }, expect: { store: false, reason: 'Vary: *' } },
  ]
  for (const row of rows) {
    test(`cacheControl on: ${JSON.stringify(row.headers)} → ${JSON.stringify(row.expect)}${row.note ? ` (${row.note})` : ''}`, () => {
      assert.deepEqual(write(row.headers, cc), row.expect)
    })
  }

  for (const validator of [{ etag: ETAG }, { 'last-modified': LAST_MODIFIED }]) {
    for (const freshness of [{ 'cache-control': 'max-age=0' }, { expires: '0' }]) {
      test(`${JSON.stringify({ ...freshness, ...validator })} is stored, expired at once, to be revalidated (test_update_from_response__revalidate)`, () => {
        assert.deepEqual(write({ ...freshness, ...validator }, cc), { store: true, expires: NOW })
      })
    }
  }

  test('cacheControl off: response headers are ignored (test_update_from_response__ignored)', () => {
    const s = settingsOf({ expireAfter: 1 })
    assert.deepEqual(write({ 'cache-control': 'max-age=5' }, s), { store: true, expires: NOW + S })
    assert.deepEqual(write({ 'cache-control': 'no-store' }, s), { store: true, expires: NOW + S })
  })

  test('Vary: * is never stored, cacheControl or not', () => {
    assert.deepEqual(write({ vary: 'accept, *' }, settingsOf()), { store: false, reason: 'Vary: *' })
  })

  test('the response headers beat the per-request expireAfter, unless the request turns cacheControl off', () => {
    const p = cachePlan({ cacheOptions: { expireAfter: 5 } }, cc)
    assert.deepEqual(write({ 'cache-control': 'max-age=60' }, cc, p), { store: true, expires: NOW + 60 * S })
    assert.deepEqual(
      write({}, cc, p),
      { store: true, expires: NOW + 5 * S },
      'without response freshness, the per-request expiry',
    )
    const override = cachePlan({ cacheOptions: { cacheControl: false, expireAfter: 5 } }, cc)
    assert.deepEqual(write({ 'cache-control': 'max-age=60' }, cc, override), { store: true, expires: NOW + 5 * S })
    assert.deepEqual(write({ 'cache-control': 'no-store' }, cc, override), { store: true, expires: NOW + 5 * S })
  })

  test('a request can turn cacheControl on for itself; a shared cache stays shared', () => {
    const off = settingsOf({ expireAfter: 1 })
    const on = cachePlan({ cacheOptions: { cacheControl: true } }, off)
    assert.deepEqual([on.cacheControl, on.sharedCache], [true, false])
    assert.deepEqual(write({ 'cache-control': 'max-age=60' }, off, on), { store: true, expires: NOW + 60 * S })
    const shared = settingsOf({ cacheControl: 'shared' })
    const again = cachePlan({ cacheOptions: { cacheControl: true } }, shared)
    assert.deepEqual([again.cacheControl, again.sharedCache], [true, true])
    const none = cachePlan({ cacheOptions: { cacheControl: false } }, shared)
    assert.deepEqual([none.cacheControl, none.sharedCache], [false, false])
  })

  test('response headers beat the request max-age, URL rules and expireAfter', () => {
    const s = settingsOf({ cacheControl: true, expireAfter: 1, urlsExpireAfter: { '*': 2 } })
    const p = cachePlan({ headers: { 'cache-control': 'max-age=3' } }, s)
    assert.deepEqual(write({ 'cache-control': 'max-age=60' }, s, p), { store: true, expires: NOW + 60 * S })
    assert.deepEqual(
      write({}, s, p),
      { store: true, expires: NOW + 3 * S },
      'without response freshness, the request max-age applies',
    )
  })

  test('an explicit expireAfter fills in for responses without freshness information (cacheControl on)', () => {
    const s = settingsOf({ cacheControl: true, expireAfter: 30 })
    assert.deepEqual(write({}, s), { store: true, expires: NOW + 30 * S })
  })

  test('heuristic freshness from Last-Modified: 10% of its age (RFC 9111 §4.2.2)', () => {
    const lastModified = new Date(NOW - 100 * H).toUTCString()
    assert.deepEqual(write({ 'last-modified': lastModified }, cc), { store: true, expires: NOW + 10 * H })
  })

  test('statuses: allowableCodes decide, and with cacheControl the RFC cacheable ones too', () => {
    assert.deepEqual(write({}, settingsOf(), cachePlan({}, settingsOf()), 404), { store: false, reason: 'status 404' })
    assert.equal(write({ 'cache-control': 'max-age=60' }, cc, cachePlan({}, cc), 404).store, true)
    // RFC 9111 §3: any final status with explicit freshness may be stored.
    assert.equal(write({ 'cache-control': 'max-age=60' }, cc, cachePlan({}, cc), 500).store, true)
    assert.equal(write({ etag: ETAG }, cc, cachePlan({}, cc), 500).store, false)
    const explicit = settingsOf({ cacheControl: true, allowableCodes: [200] })
    assert.equal(write({ 'cache-control': 'max-age=60' }, explicit, cachePlan({}, explicit), 404).store, false)
  })

  test('EXPIRE_IMMEDIATELY stores only with a validator; DO_NOT_CACHE never; readOnly never', () => {
    const immediately = settingsOf({ expireAfter: EXPIRE_IMMEDIATELY })
    assert.deepEqual(write({}, immediately), { store: false, reason: 'EXPIRE_IMMEDIATELY without a validator' })
    assert.deepEqual(write({ etag: ETAG }, immediately), { store: true, expires: NOW })
    assert.deepEqual(write({}, settingsOf({ readOnly: true })), { store: false, reason: 'read-only' })
  })
})
