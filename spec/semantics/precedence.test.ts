/**
 * Expiry precedence, as requests-cache documents it ("Expiration Precedence", its expiration guide):
 * the response's Cache-Control (with cacheControl on), then the request's Cache-Control, the
 * per-request expireAfter, the first matching urlsExpireAfter rule, and expireAfter.
 *
 * Cases ported from requests-cache, credited per row:
 * - `test_init`: tests/unit/test_cache_control.py as it was when header expiry arrived (commit
 *   6257a50): per request vs per URL vs the request's max-age, expireAfter 1, cache_control on;
 * - `test_cache_control_expiration`: tests/integration/base_cache_test.py, an origin answering
 *   `max-age=60`, with and without request headers, cache_control on and off.
 * Rows marked `order` are what the documented order implies where requests-cache has no case of its
 * own (the response against a per-request expiry), and `override` the per-request `cacheControl`.
 * README.md "Expiry precedence" shows this table: the last test checks it is the same.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { RequestCacheOptions } from '../../lib/options/types.js'
import { ROOT } from '../helpers/children.js'
import { forEachFront } from '../helpers/fronts.js'
import { route, startPerTestOn, storedResponse } from './fixtures.js'

interface Case {
  /** The requests-cache test the case comes from, or `order` / `override` (see above). */
  from: string
  cacheControl: boolean
  /** The origin's `Cache-Control`. */
  response?: string
  /** The request's `Cache-Control`. */
  request?: string
  cacheOptions?: RequestCacheOptions
  /** A `urlsExpireAfter` rule matching the URL, in seconds. */
  url?: number
  /** `expireAfter`, in seconds (`NEVER_EXPIRE`, the default, when absent). */
  session?: number
  /** How long the stored response stays fresh, in seconds. */
  lifetime: number | 'never' | 'not stored'
}

const CASES: readonly Case[] = [
  { from: 'test_init', cacheControl: true, session: 1, lifetime: 1 },
  { from: 'test_init', cacheControl: true, cacheOptions: { expireAfter: 2 }, session: 1, lifetime: 2 },
  { from: 'test_init', cacheControl: true, cacheOptions: { expireAfter: 2 }, url: 3, session: 1, lifetime: 2 },
  { from: 'test_init', cacheControl: true, url: 3, session: 1, lifetime: 3 },
  {
    from: 'test_init',
    cacheControl: true,
    request: 'max-age=4',
    cacheOptions: { expireAfter: 2 },
    url: 3,
    session: 1,
    lifetime: 4,
  },
  { from: 'test_init', cacheControl: true, request: 'max-age=4', cacheOptions: { expireAfter: 2 }, session: 1, lifetime: 4 },
  { from: 'test_init', cacheControl: true, request: 'max-age=4', url: 3, session: 1, lifetime: 4 },
  { from: 'test_init', cacheControl: true, request: 'max-age=4', session: 1, lifetime: 4 },
  { from: 'test_cache_control_expiration', cacheControl: true, response: 'max-age=60', lifetime: 60 },
  { from: 'test_cache_control_expiration', cacheControl: true, response: 'max-age=60', request: 'max-age=360', lifetime: 60 },
  {
    from: 'test_cache_control_expiration',
    cacheControl: true,
    response: 'max-age=60',
    request: 'no-store',
    lifetime: 'not stored',
  },
  { from: 'test_cache_control_expiration', cacheControl: false, response: 'max-age=60', lifetime: 'never' },
  { from: 'test_cache_control_expiration', cacheControl: false, response: 'max-age=60', request: 'max-age=360', lifetime: 360 },
  {
    from: 'test_cache_control_expiration',
    cacheControl: false,
    response: 'max-age=60',
    request: 'no-store',
    lifetime: 'not stored',
  },
  { from: 'order', cacheControl: true, response: 'max-age=60', cacheOptions: { expireAfter: 2 }, lifetime: 60 },
  {
    from: 'order',
    cacheControl: true,
    response: 'max-age=60',
    cacheOptions: { expireAfter: 2 },
    url: 3,
    session: 1,
    lifetime: 60,
  },
  {
    from: 'override',
    cacheControl: true,
    response: 'max-age=60',
    cacheOptions: { cacheControl: false, expireAfter: 2 },
    lifetime: 2,
  },
  {
    from: 'override',
    cacheControl: false,
    response: 'max-age=60',
    cacheOptions: { cacheControl: true },
    session: 1,
    lifetime: 60,
  },
]

/** A row of the README's table. */
function markdownRow(c: Case): string {
  const code = (value: string | undefined) => (value === undefined ? '–' : `\`${value}\``)
  const options = c.cacheOptions
    ? `\`{ ${Object.entries(c.cacheOptions)
        .map(([name, value]) => `${name}: ${value}`)
        .join(', ')} }\``
    : '–'
  const lifetime = typeof c.lifetime === 'number' ? `${c.lifetime} s` : c.lifetime === 'never' ? 'never expires' : c.lifetime
  const cells = [
    code(c.from),
    code(String(c.cacheControl)),
    code(c.response),
    code(c.request),
    options,
    c.url === undefined ? '–' : `${c.url}`,
    c.session === undefined ? '–' : `${c.session}`,
    `**${lifetime}**`,
  ]
  return `| ${cells.join(' | ')} |`
}

/** What a case says, as a test name. */
function title(c: Case): string {
  const given = [
    `cacheControl ${c.cacheControl ? 'on' : 'off'}`,
    c.response && `response ${c.response}`,
    c.request && `request ${c.request}`,
    c.cacheOptions && `cacheOptions ${JSON.stringify(c.cacheOptions)}`,
    c.url !== undefined && `URL rule ${c.url}`,
    c.session !== undefined && `expireAfter ${c.session}`,
  ]
  const lifetime = typeof c.lifetime === 'number' ? `${c.lifetime} s` : c.lifetime
  return `${given.filter(Boolean).join(', ')} → ${lifetime} (${c.from})`
}

const HEADER = [
  '| from | `cacheControl` | response `Cache-Control` | request `Cache-Control` | `cacheOptions` | matching `urlsExpireAfter` rule | `expireAfter` | stored for |',
  '| --- | --- | --- | --- | --- | --: | --: | --- |',
]

forEachFront('expiry precedence (requests-cache)', (kind) => {
  const start = startPerTestOn(kind)

  for (const c of CASES) {
    test(title(c), async () => {
      const s = await start({
        backend: 'memory',
        cacheControl: c.cacheControl,
        ...(c.session === undefined ? {} : { expireAfter: c.session }),
        urlsExpireAfter: c.url === undefined ? [] : [[/\/ruled$/, c.url]],
      })
      s.origin.route('/r', route('body', c.response === undefined ? {} : { 'cache-control': c.response }, s.clock))
      s.origin.route('/ruled', route('body', c.response === undefined ? {} : { 'cache-control': c.response }, s.clock))
      const url = s.url(c.url === undefined ? '/r' : '/ruled')
      const init = {
        ...(c.request === undefined ? {} : { headers: { 'cache-control': c.request } }),
        ...(c.cacheOptions === undefined ? {} : { cacheOptions: c.cacheOptions }),
      }
      const response = await s.front.get(url, init)
      // The caller reads the body to its end: by then the response is stored (or will not be).
      assert.equal(await response.text(), 'body')
      const entry = await storedResponse(s.front, url)
      if (c.lifetime === 'not stored') {
        assert.equal(entry, undefined)
        assert.equal((await s.front.get(url, init)).fromCache, false)
        return
      }
      assert.ok(entry, 'stored')
      const lifetime = entry.expires ? (entry.expires.getTime() - entry.createdAt.getTime()) / 1000 : 'never'
      assert.equal(lifetime, c.lifetime)
      const again = await s.front.get(url, init)
      assert.equal(again.hit, true, 'the next request is a hit')
      assert.equal(s.origin.count(), 1)
    })
  }
})

test("README.md's precedence table is this one", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const table = [...HEADER, ...CASES.map(markdownRow)].join('\n')
  assert.ok(readme.includes(`\n${table}\n`), `README.md "Expiry precedence" should hold:\n${table}`)
})
