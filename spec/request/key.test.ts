/**
 * Keys: normalization, matched headers, credentials, ignored parameters and Vary variants.
 * Normalization and Vary cases are ported from requests-cache tests/unit/test_session.py
 * (test_normalize_params*, test_match_headers*) and tests/unit/policy/test_actions.py
 * (test_update_from_cached_response__vary), rewritten for our API.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidOptionValueError } from '../../lib/errors.js'
import { LiveSettings } from '../../lib/options/live.js'
import type { CacheSettings, ResolvedSettings } from '../../lib/options/types.js'
import {
  bodyDigest,
  createKey,
  hashCredential,
  normalizeUrl,
  REDACTED,
  redactUrl,
  storedRequestHeaders,
  variantKey,
} from '../../lib/request/key.js'

const SECRET = 'test-secret'

function settingsOf(options: Partial<CacheSettings> = {}): ResolvedSettings {
  return new LiveSettings(options).resolved
}

function key(
  request: { method?: string; url?: string; headers?: Record<string, string>; body?: string | Uint8Array; contentType?: string },
  settings: ResolvedSettings = settingsOf(),
): string {
  const headers = new Headers(request.headers)
  const digest = bodyDigest(request.body, request.contentType ?? headers.get('content-type'), settings.ignored)
  return createKey(
    {
      method: request.method ?? 'GET',
      url: normalizeUrl(request.url ?? 'https://site.com/', settings.ignored),
      headers,
      bodyDigest: digest,
    },
    settings,
    SECRET,
  )
}

describe('keys: normalization', () => {
  test('URL variants that mean the same resource share a key (test_normalize_params__url)', () => {
    const urls = [
      'https://site.com?param_1=value_1&param_2=value_2',
      'https://site.com/?param_2=value_2&param_1=value_1',
      'https://site.com:443?param_1=value_1&param_2=value_2',
      'HTTPS://SITE.com?param_1=value_1&param_2=value_2',
      'https://site.com?param_1=value_1&param_2=value_2#fragment',
    ]
    assert.equal(new Set(urls.map((url) => key({ url }))).size, 1)
  })

  test('repeated query parameters keep their order; different values differ', () => {
    assert.notEqual(key({ url: 'https://site.com/?a=1&a=2' }), key({ url: 'https://site.com/?a=2&a=1' }))
    assert.notEqual(key({ url: 'https://site.com/?a=1' }), key({ url: 'https://site.com/?a=2' }))
  })

  test('query strings some servers read differently keep their own keys: pairs are keyed as sent', () => {
    const pairs: [string, string, string][] = [
      ['`;` separates pairs to Rack < 3, Python < 3.9.2 and Go < 1.17', '?a=1;b=2', '?a=1%3Bb%3D2'],
      ['a bare name is not an empty value (Rack: nil vs "")', '?flag', '?flag='],
      ['`+` is a space only to form decoders', '?x=a+b', '?x=a%20b'],
    ]
    for (const [what, a, b] of pairs) {
      assert.notEqual(key({ url: `https://site.com/${a}` }), key({ url: `https://site.com/${b}` }), what)
    }
    assert.equal(normalizeUrl('https://site.com/?b=2;c=3&a=1&flag&a=0', new Set()), 'https://site.com/?a=1&a=0&b=2;c=3&flag')
  })

  test('a credential parameter is hashed as sent, and its stored form gives the same key again', () => {
    const settings = settingsOf()
    const credentials = { names: settings.credentialParameters, secret: SECRET }
    const url = 'https://site.com/?q=Jos%E9&api_key=a+b;c&flag'
    const stored = redactUrl(url, settings.ignored, credentials)
    assert.equal(stored, `https://site.com/?q=Jos%E9&api_key=${encodeURIComponent(hashCredential('a+b;c', SECRET))}&flag`)
    assert.equal(normalizeUrl(stored, settings.ignored), normalizeUrl(url, settings.ignored, credentials))
    assert.equal(redactUrl(stored, settings.ignored, credentials), stored, 'a stored URL saved again is unchanged')
    assert.notEqual(
      normalizeUrl('https://site.com/?api_key=a+b', settings.ignored, credentials),
      normalizeUrl('https://site.com/?api_key=a%20b', settings.ignored, credentials),
    )
  })

  test('the key is a SHA-256 hex digest and depends on the method', () => {
    assert.match(key({}), /^[0-9a-f]{64}$/)
    assert.notEqual(key({ method: 'GET' }), key({ method: 'HEAD' }))
  })

  test('JSON bodies are compared with sorted keys (test_normalize_params__serialized_body)', () => {
    const json = 'application/json'
    assert.equal(
      key({ method: 'POST', body: '{"a":"a","b":["1","2"],"c":"4"}', contentType: json }),
      key({ method: 'POST', body: '{"c":"4","b":["1","2"],"a":"a"}', contentType: json }),
    )
    assert.notEqual(
      key({ method: 'POST', body: '{"a":"b"}', contentType: json }),
      key({ method: 'POST', body: '{"a":"a"}', contentType: json }),
    )
  })

  test('form bodies are compared like queries (test_normalize_params__urlencoded_body)', () => {
    const form = 'application/x-www-form-urlencoded'
    assert.equal(
      key({ method: 'POST', body: 'a=1&b=%21%40', contentType: form }),
      key({ method: 'POST', body: 'b=%21%40&a=1', contentType: form }),
    )
    // Pairs as sent, as in a query: forms a server may read apart keep their own keys.
    const apart: [string, string][] = [
      ['flag', 'flag='],
      ['a=1;b=2', 'a=1%3Bb%3D2'],
      ['q=a+b', 'q=a%20b'],
      ['a=1&a=2', 'a=2&a=1'],
    ]
    for (const [one, other] of apart) {
      assert.notEqual(
        key({ method: 'POST', body: one, contentType: form }),
        key({ method: 'POST', body: other, contentType: form }),
        `${one} and ${other}`,
      )
    }
  })

  test('other bodies are hashed as bytes, not normalized (test_normalize_params__non_json_body)', () => {
    const a = key({ method: 'POST', body: 'key_1=value_1,key_2=value_2', contentType: 'text/plain' })
    assert.notEqual(
      key({ method: 'POST', body: '{"q":"x"}', contentType: 'application/json' }),
      key({ method: 'POST', body: '{"q":"x"}', contentType: 'text/plain' }),
      'the same bytes as another media type are another request',
    )
    assert.equal(
      key({ method: 'POST', body: '{"q":"x"}', contentType: 'application/json' }),
      key({ method: 'POST', body: '{"q":"x"}', contentType: 'Application/JSON; charset=utf-8' }),
      'parameters and case of the media type do not count',
    )
    assert.equal(a, key({ method: 'POST', body: 'key_1=value_1,key_2=value_2', contentType: 'text/plain' }))
    assert.notEqual(a, key({ method: 'POST', body: 'key_2=value_2,key_1=value_1', contentType: 'text/plain' }))
  })

  test('normalizing never makes two different bodies one', () => {
    const json = 'application/json'
    const form = 'application/x-www-form-urlencoded'
    const latin1 = (text: string) => Buffer.from(text, 'latin1')
    const pairs: [string, string | Uint8Array, string | Uint8Array, string][] = [
      ['integers past 2^53', '{"id":9007199254740993}', '{"id":9007199254740992}', json],
      ['a number written two ways', '{"n":1.0}', '{"n":1}', json],
      ['a __proto__ field', '{"__proto__":{"role":"admin"}}', '{"__proto__":{"role":"user"}}', json],
      ['JSON bytes that are not UTF-8', latin1('{"name":"é"}'), latin1('{"name":"è"}'), `${json}; charset=iso-8859-1`],
      ['form bytes that are not UTF-8', latin1('name=é'), latin1('name=è'), form],
      ['form escapes that are not UTF-8', 'name=%E9', 'name=%E8', form],
      ['a byte-order mark', '\uFEFF{"a":1}', '{"a":1}', json],
    ]
    for (const [what, a, b, contentType] of pairs) {
      assert.notEqual(key({ method: 'POST', body: a, contentType }), key({ method: 'POST', body: b, contentType }), what)
    }
    // Still one key for what only differs in field order.
    assert.equal(
      key({ method: 'POST', body: '{"b":[1.50,2],"a":{"y":1,"x":9007199254740993}}', contentType: json }),
      key({ method: 'POST', body: '{"a":{"x":9007199254740993,"y":1},"b":[1.50,2]}', contentType: json }),
    )
  })

  test('a body that claims JSON but is not still gets a key', () => {
    assert.match(key({ method: 'POST', body: '{nope', contentType: 'application/json' }), /^[0-9a-f]{64}$/)
  })
})

describe('keys: matchHeaders', () => {
  test('off by default: headers do not change the key', () => {
    assert.equal(key({ headers: { accept: 'application/json' } }), key({ headers: { accept: 'text/xml' } }))
  })

  test('true: every header counts (test_match_headers)', () => {
    const settings = settingsOf({ matchHeaders: true })
    const keys = [{ accept: 'application/json' }, { accept: 'text/xml' }, { accept: 'custom' }, {}].map((headers) =>
      key({ headers }, settings),
    )
    assert.equal(new Set(keys).size, 4)
  })

  test('true: order and case of header names do not matter (test_match_headers__normalize)', () => {
    const settings = settingsOf({ matchHeaders: true })
    assert.equal(
      key({ headers: { Accept: 'application/json', Custom: 'abc' } }, settings),
      key({ headers: { custom: 'abc', accept: 'application/json' } }, settings),
    )
  })

  test("true: an absent header equals fetch's default, and cache directives / validators are left out", () => {
    const settings = settingsOf({ matchHeaders: true })
    assert.equal(key({}, settings), key({ headers: { accept: '*/*', 'user-agent': 'node', 'accept-language': '*' } }, settings))
    assert.equal(
      key({}, settings),
      key({ headers: { 'cache-control': 'no-cache', 'if-none-match': '"x"', 'accept-encoding': 'br' } }, settings),
    )
  })

  test('a list: only the named headers count (test_match_headers__list)', () => {
    const settings = settingsOf({ matchHeaders: ['Accept'] })
    const k1 = key({ headers: { accept: 'application/json', 'user-agent': 'qutebrowser' } }, settings)
    assert.equal(k1, key({ headers: { accept: 'application/json', 'user-agent': 'Firefox' } }, settings))
    assert.notEqual(k1, key({ headers: { accept: 'text/plain', 'user-agent': 'qutebrowser' } }, settings))
  })
})

describe('keys: credentials', () => {
  test('Authorization, Proxy-Authorization and Cookie partition the cache', () => {
    for (const name of ['authorization', 'proxy-authorization', 'cookie']) {
      const anonymous = key({})
      const alice = key({ headers: { [name]: 'alice-token' } })
      const bob = key({ headers: { [name]: 'bob-token' } })
      assert.equal(new Set([anonymous, alice, bob]).size, 3, name)
    }
  })

  test('naming a credential in ignoredParameters opts into sharing', () => {
    const settings = settingsOf({ ignoredParameters: ['Authorization'] })
    assert.equal(key({ headers: { authorization: 'a' } }, settings), key({ headers: { authorization: 'b' } }, settings))
  })

  test('a credential is stored as a keyed hash, never in clear', () => {
    const stored = storedRequestHeaders(
      new Headers({ authorization: 'Bearer sekrit', cookie: 'sid=sekrit', accept: 'x' }),
      settingsOf(),
      SECRET,
    )
    assert.equal(stored.accept, 'x')
    assert.equal(stored.authorization, hashCredential('Bearer sekrit', SECRET))
    assert.ok(!JSON.stringify(stored).includes('sekrit'))
    assert.notEqual(hashCredential('Bearer sekrit', SECRET), hashCredential('Bearer sekrit', 'another-secret'))
  })
})

describe('keys: ignoredParameters', () => {
  const settings = settingsOf({ ignoredParameters: ['api_key', 'token', 'x-request-id'] })

  test('query parameters are left out of the key and redacted in the stored URL', () => {
    assert.equal(
      key({ url: 'https://site.com/?q=1&api_key=a' }, settings),
      key({ url: 'https://site.com/?api_key=b&q=1' }, settings),
    )
    assert.equal(key({ url: 'https://site.com/?q=1&api_key=a' }, settings), key({ url: 'https://site.com/?q=1' }, settings))
    const credentials = { names: settings.credentialParameters, secret: 'k' }
    assert.equal(
      redactUrl('https://site.com/?q=1&api_key=a', settings.ignored, credentials),
      `https://site.com/?q=1&api_key=${REDACTED}`,
    )
  })

  test('the stored URL keeps every other pair byte for byte, escapes that are not UTF-8 included', () => {
    const credentials = { names: settings.credentialParameters, secret: 'k' }
    for (const query of ['q=Jos%E9', 'q=Jos%E8', 'q=a;b=c', 'flag', 'x=a+b&y=%2F']) {
      assert.equal(
        redactUrl(`https://site.com/?token=t&${query}`, settings.ignored, credentials),
        `https://site.com/?token=${REDACTED}&${query}`,
      )
    }
  })

  test('JSON and form body fields are left out of the key', () => {
    const json = (body: string) => key({ method: 'POST', body, contentType: 'application/json' }, settings)
    assert.equal(json('{"q":1,"token":"a"}'), json('{"token":"b","q":1}'))
    assert.notEqual(json('{"q":1,"token":"a"}'), json('{"q":2,"token":"a"}'))
    const form = (body: string) => key({ method: 'POST', body, contentType: 'application/x-www-form-urlencoded' }, settings)
    assert.equal(form('q=1&token=a'), form('token=b&q=1'))
  })

  test('headers are left out of the key (with matchHeaders) and redacted in what is stored', () => {
    const matching = settingsOf({ matchHeaders: true, ignoredParameters: ['X-Request-Id'] })
    assert.equal(key({ headers: { 'x-request-id': '1' } }, matching), key({ headers: { 'x-request-id': '2' } }, matching))
    assert.equal(storedRequestHeaders(new Headers({ 'x-request-id': '1' }), matching, SECRET)['x-request-id'], REDACTED)
  })
})

describe('keys: keyFn', () => {
  test('receives the request and the default key, and its result is the key (test_key_fn)', () => {
    const seen: string[] = []
    const settings = settingsOf({
      keyFn: (request) => {
        seen.push(request.defaultKey)
        return request.url.split('?')[0] as string
      },
    })
    assert.equal(key({ url: 'https://site.com/?k=v' }, settings), 'https://site.com/')
    assert.equal(seen[0], key({ url: 'https://site.com/?k=v' }))
  })

  test('a keyFn that returns no string is an error naming keyFn', () => {
    const settings = settingsOf({ keyFn: () => 42 as unknown as string })
    assert.throws(
      () => key({}, settings),
      (error: unknown) => error instanceof InvalidOptionValueError && error.option === 'keyFn',
    )
  })
})

describe('Vary variants (test_update_from_cached_response__vary)', () => {
  const vk = (vary: string[], headers: Record<string, string>) => variantKey('base', vary, new Headers(headers), SECRET)
  // [Vary names, stored request headers, new request headers, same variant?, note]
  const rows: [string[], Record<string, string>, Record<string, string>, boolean, string?][] = [
    [['accept'], { accept: 'application/json' }, { accept: 'application/json' }, true],
    [['accept'], { accept: 'application/json' }, {}, false],
    [['accept'], { accept: 'application/json' }, { accept: 'application/json', 'accept-language': 'en' }, true],
    [['accept'], { accept: 'application/json' }, { accept: 'text/html' }, false],
    [['accept-encoding'], { accept: 'application/json' }, { accept: 'text/html' }, true],
    [['accept-encoding'], { 'accept-encoding': 'gzip,deflate' }, { 'accept-encoding': 'gzip,deflate' }, true],
    [
      ['accept-encoding'],
      { 'accept-encoding': 'gzip,deflate' },
      { 'accept-encoding': 'gzip,br' },
      true,
      'requests-cache: a miss; we store bodies decoded, so content-coding never splits variants',
    ],
    [
      ['accept', 'accept-encoding'],
      { accept: 'application/json', 'accept-encoding': 'gzip,deflate' },
      { accept: 'application/json', 'accept-encoding': 'gzip,deflate' },
      true,
    ],
    [
      ['accept', 'accept-encoding'],
      { accept: 'application/json', 'accept-encoding': 'gzip,deflate' },
      { accept: 'text/html', 'accept-encoding': 'gzip,deflate' },
      false,
    ],
    [
      ['accept', 'accept-encoding'],
      { accept: 'application/json', 'accept-encoding': 'gzip,deflate' },
      { 'accept-encoding': 'gzip,deflate' },
      false,
    ],
    [['accept'], {}, { accept: '*/*' }, true, "an absent Accept is fetch's default */*"],
    [['x-flavour'], { 'x-flavour': 'a, b' }, { 'x-flavour': 'a,b' }, true, 'whitespace around commas is normalized'],
    [['x-flavour'], {}, { 'x-flavour': '' }, false, 'absent differs from empty'],
    [['cookie'], { cookie: 'a=1' }, { cookie: 'a=2' }, false],
  ]
  for (const [vary, stored, incoming, same, note] of rows) {
    test(`Vary: ${vary.join(', ')}; ${JSON.stringify(stored)} vs ${JSON.stringify(incoming)} → ${same ? 'same variant' : 'another variant'}${note ? ` (${note})` : ''}`, () => {
      assert.equal(vk(vary, stored) === vk(vary, incoming), same)
    })
  }
})

describe('keys: stable across releases', () => {
  // Computed by the release before: a recipe that changes without KEY_VERSION turns every stored entry into a miss.
  // KEY_VERSION 3: queries keyed as sent, a body's digest with its media type.
  test('the same request gives the same key and variant key as before', () => {
    const json = bodyDigest('{"b":1,"a":2}', 'application/json', new Set())
    const cases: [Partial<CacheSettings>, Parameters<typeof key>[0], string][] = [
      [{}, { url: 'https://site.com/a?b=2&a=1' }, 'a0d8c09bf9865ecad03f47a5a91f0e3beaea91571d8cd51f447c7139424023d8'],
      [
        {},
        { headers: { authorization: 'Bearer x', cookie: 'a=1', 'x-api-key': 'k' } },
        'f7990689009b2332c3217ebb3907519375920c14d4ae97401c300dde9f48c1f3',
      ],
      [
        { matchHeaders: true },
        { headers: { accept: 'application/json', 'accept-language': 'en' } },
        '68dc6aa3dd6c201f7a28e4f9d6a5d633e563edd01e921853cb9ddaa851f532f3',
      ],
      [
        { credentialHeaders: ['x-mine'] },
        { headers: { 'x-mine': 'm', authorization: 'a' } },
        'e8742e2f41eee16ce4f7346d8b0827f40572552086e0052387fcea5ab4453a4d',
      ],
    ]
    assert.deepEqual(
      cases.map(([options, request]) => key(request, settingsOf(options))),
      cases.map(([, , expected]) => expected),
    )
    const settings = settingsOf({ matchHeaders: ['accept'] })
    const post = createKey(
      { method: 'POST', url: 'https://site.com/p', headers: new Headers({ accept: 'text/html' }), bodyDigest: json },
      settings,
      SECRET,
    )
    assert.equal(post, '46ee873870e387b776410c330ca226ce9a4ea6e68bb3247e7d9dd40e836463d7')
    const variant = variantKey(
      'k',
      ['accept', 'authorization', 'accept-encoding'],
      new Headers({ accept: 'a, b', authorization: 'z' }),
      SECRET,
    )
    assert.equal(variant, '653ed13ee94786400b4f0339754ad01cf06fd52016c0f7b0b6d58aa9d09c02d1')
  })
})
