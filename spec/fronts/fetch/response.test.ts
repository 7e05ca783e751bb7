import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { Headers as UndiciHeaders } from 'undici'
import { identityBody } from '../../../lib/entry/entry.js'
import { cachedResponse, responseFromEntry } from '../../../lib/fronts/fetch/response.js'
import { cacheStatus } from '../../../lib/http/cache-status.js'
import { createCachedFetch } from '../../../lib/install/session.js'
import { cacheInfo, infoFor, ttlSeconds } from '../../../lib/observe/cache-info.js'
import { makeEntry, T0 } from '../../helpers/entries.js'
import { startOrigin, tempDir } from '../../helpers/origin.js'

const info = infoFor(makeEntry(), T0, true)

describe('cacheStatus (RFC 9211)', () => {
  const rows: [Parameters<typeof cacheStatus>[0], string][] = [
    [{ hit: true, ttl: 42 }, 'fetch-http-cache; hit; ttl=42'],
    [{ fwd: 'miss', fwdStatus: 200, stored: true, ttl: 60 }, 'fetch-http-cache; fwd=miss; fwd-status=200; stored; ttl=60'],
    [{ fwd: 'stale', fwdStatus: 304, stored: true }, 'fetch-http-cache; fwd=stale; fwd-status=304; stored'],
    [{ hit: true, ttl: -5, detail: 'stale-while-revalidate' }, 'fetch-http-cache; hit; ttl=-5; detail=stale-while-revalidate'],
    [{ fwd: 'bypass', fwdStatus: 200 }, 'fetch-http-cache; fwd=bypass; fwd-status=200'],
  ]
  for (const [input, expected] of rows) test(expected, () => assert.equal(cacheStatus(input), expected))

  test('ttl: seconds left, negative when stale, none for a never-expiring entry', () => {
    assert.equal(ttlSeconds(makeEntry({ expires: T0 + 90_500 }), T0), 90)
    assert.equal(ttlSeconds(makeEntry({ expires: T0 - 1500 }), T0), -2)
    assert.equal(ttlSeconds(makeEntry({ expires: null }), T0), undefined)
  })
})

describe('responseFromEntry', () => {
  const headers = (entry = makeEntry()) => new Headers(entry.headers)

  test('keeps status, statusText, headers, url and redirected; attaches cacheInfo', async () => {
    const entry = makeEntry({
      status: 203,
      statusText: 'Non-Authoritative',
      responseUrl: 'https://example.com/final',
      redirected: true,
    })
    const response = responseFromEntry(entry, headers(entry), info, undefined, 'GET')
    assert.equal(response.status, 203)
    assert.equal(response.statusText, 'Non-Authoritative')
    assert.equal(response.headers.get('etag'), '"v1"')
    assert.equal(response.url, 'https://example.com/final')
    assert.equal(response.redirected, true)
    assert.equal(response.type, 'basic')
    assert.equal(cacheInfo(response), info)
    assert.equal(await response.text(), 'hello')
  })

  test('HEAD gets no body; null-body statuses get none either', async () => {
    assert.equal(responseFromEntry(makeEntry(), headers(), info, undefined, 'HEAD').body, null)
    const noContent = makeEntry({ status: 204, body: new Uint8Array(0) })
    assert.equal(responseFromEntry(noContent, headers(noContent), info, undefined, 'GET').body, null)
  })

  test('a body stored with its content-coding is decoded (gzip, br, and both in order)', async () => {
    const text = 'decoded body'
    const rows: [string, Uint8Array][] = [
      ['gzip', gzipSync(text)],
      ['br', brotliCompressSync(text)],
      ['gzip, br', brotliCompressSync(gzipSync(text))],
    ]
    for (const [coding, body] of rows) {
      const entry = makeEntry({ encoding: 'coded', body, headers: [['content-encoding', coding]] })
      assert.equal(Buffer.from(identityBody(entry)).toString(), text, coding)
    }
    assert.throws(() => identityBody(makeEntry({ encoding: 'coded', headers: [['content-encoding', 'bogus']] })), /bogus/)
  })

  test('the body handed out is a copy: a caller writing into it cannot change the entry', async () => {
    const entry = makeEntry()
    const response = responseFromEntry(entry, headers(entry), info, new AbortController().signal, 'GET')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const { value } = await reader.read()
    value?.fill(0)
    assert.equal(Buffer.from(entry.body).toString(), 'hello')
  })
})

describe('cachedResponse and clone', () => {
  const extras = { url: 'https://example.com/a', redirected: false }

  test('clone() keeps url, redirected, type and cacheInfo, and clones of clones too', async () => {
    const response = cachedResponse('x', {}, { url: 'https://example.com/a', redirected: true }, info)
    assert.ok(response instanceof Response)
    const copy = response.clone().clone()
    assert.equal(copy.url, 'https://example.com/a')
    assert.equal(copy.redirected, true)
    assert.equal(copy.type, 'basic')
    assert.equal(cacheInfo(copy), info)
    assert.equal(await copy.text(), 'x')
    assert.equal(await response.text(), 'x')
  })

  test('takes its header fields as the Response constructor would, from pairs, a record, or any undici Headers', async () => {
    const pairs: [string, string][] = [
      ['Content-Type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['vary', 'accept'],
      ['Vary', 'accept-language'],
      ['x-padded', '  value  '],
    ]
    const forms: [string, NonNullable<ResponseInit['headers']>][] = [
      ['pairs', pairs],
      ['a record', { 'Content-Type': 'application/json', 'X-One': '1' }],
      ['the global Headers', new Headers(pairs)],
      // The origin's response may come from npm undici's fetch, whose Headers is another class.
      ['npm undici Headers', new UndiciHeaders(pairs) as unknown as Headers],
    ]
    for (const [form, headers] of forms) {
      const expected = new Response(new Uint8Array([1]), { status: 201, statusText: 'Made', headers })
      const response = cachedResponse(new Uint8Array([1]), { status: 201, statusText: 'Made', headers }, extras, info)
      assert.deepEqual([...response.headers], [...expected.headers], form)
      assert.deepEqual(response.headers.getSetCookie(), expected.headers.getSetCookie(), form)
      assert.equal(response.status, 201)
      assert.equal(response.statusText, 'Made')
      // blob() takes its type from the response's own header list, which the fields are in.
      assert.equal((await response.blob()).type, expected.headers.get('content-type') ?? '', form)
    }
    // A string body gets text/plain only when the fields have no Content-Type, as with the constructor.
    const typed = cachedResponse('x', { headers: { 'content-type': 'text/csv' } }, extras, info)
    assert.equal(typed.headers.get('content-type'), 'text/csv')
    assert.throws(() => cachedResponse(null, { headers: [['a']] as never }, extras, info), TypeError)
    assert.throws(() => cachedResponse(null, { headers: [['a', 'b\r\nc']] }, extras, info), TypeError)
  })

  test('a response that never passed through the cache has no cacheInfo', () => {
    assert.equal(cacheInfo(new Response('x')), undefined)
  })
})

describe('a stored entry that cannot be served never breaks the request', () => {
  test('an entry with an unknown content-coding is dropped, reported, and fetched anew', async (t) => {
    const origin = await startOrigin()
    const { dir, cleanup } = await tempDir()
    const errors: Error[] = []
    const cachedFetch = createCachedFetch({ cacheName: join(dir, 'cache'), onError: (error) => errors.push(error) })
    t.after(async () => {
      await cachedFetch.cache.close()
      await origin.close()
      await cleanup()
    })
    const first = await cachedFetch(`${origin.url}/a`)
    await first.text()
    const key = cacheInfo(first)?.cacheKey as string
    const stored = await cachedFetch.cache.store.get(key)
    assert.ok(stored)
    await cachedFetch.cache.store.set(key, {
      ...stored,
      encoding: 'coded',
      headers: [...stored.headers, ['content-encoding', 'bogus']],
    })

    const response = await cachedFetch(`${origin.url}/a`)
    assert.equal(await response.text(), 'hello /a')
    assert.equal(cacheInfo(response)?.fromCache, false)
    assert.equal(origin.count('/a'), 2)
    assert.equal(errors.length, 1)
    assert.match(errors[0]?.message ?? '', /decode failed.*bogus/)
    assert.equal(cacheInfo(await cachedFetch(`${origin.url}/a`))?.fromCache, true, 'the fresh copy was stored')
  })
})

describe('bodies are byte streams, as fetch’s own', () => {
  /** The body read through a BYOB reader, 3 bytes at a time. */
  async function readByob(response: Response): Promise<string> {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader({ mode: 'byob' })
    const parts: Buffer[] = []
    for (let i = 0; i < 100; i++) {
      const { done, value } = await reader.read(new Uint8Array(3))
      if (done) break
      parts.push(Buffer.from(value))
    }
    return Buffer.concat(parts).toString()
  }

  test('a miss, a hit, and a hit read with a signal can be read with a BYOB reader', async (t) => {
    const origin = await startOrigin({ '/byob': (_req, res) => void res.end('hello, bytes') })
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    t.after(async () => {
      await cachedFetch.cache.close()
      await origin.close()
    })
    const miss = await cachedFetch(`${origin.url}/byob`)
    assert.equal(await readByob(miss), 'hello, bytes')
    assert.equal(await cacheInfo(miss)?.stored, true)
    const hit = await cachedFetch(`${origin.url}/byob`)
    assert.equal(cacheInfo(hit)?.fromCache, true)
    assert.equal(await readByob(hit), 'hello, bytes')
    const signalled = await cachedFetch(`${origin.url}/byob`, { signal: new AbortController().signal })
    assert.equal(cacheInfo(signalled)?.fromCache, true)
    assert.equal(await readByob(signalled), 'hello, bytes')
    const cloned = (await cachedFetch(`${origin.url}/byob`, { signal: new AbortController().signal })).clone()
    assert.equal(await readByob(cloned), 'hello, bytes')
  })
})
