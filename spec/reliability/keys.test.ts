import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { Agent, request } from 'undici'
import { cacheInfo, cacheInterceptor, createCachedFetch, MemoryStore } from '../../lib/index.js'
import { storedCount } from '../helpers/store-reads.js'

/**
 * Unusual URLs and every BodyInit type (issue 8): the same request twice is a hit with the same
 * answer, different requests never share an entry, and a body that cannot be keyed without being
 * consumed (a stream) bypasses the cache cleanly.
 */

let server: Server
let base: string
const seen: { method: string; url: string; bytes: number }[] = []

before(async () => {
  // Its own origin: the huge query strings need a larger header limit than node:http's 16 KiB.
  server = createServer({ maxHeaderSize: 1024 * 1024 }, async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    seen.push({ method: req.method ?? '', url: req.url ?? '', bytes: body.length })
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 16)
    res.setHeader('content-type', 'text/plain')
    res.end(`${req.method} ${req.url} body=${body.length}:${digest} type=${req.headers['content-type'] ?? ''}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const hits = (response: Response) => cacheInfo(response)?.fromCache === true

describe('unusual URLs: the same URL twice is a hit with the same answer', () => {
  const cachedFetch = createCachedFetch({ backend: 'memory' })
  const urls = [
    '/caf%C3%A9',
    '/café',
    '/%63af%c3%a9',
    '/a%2Fb/c',
    '/a/./b/../c',
    '/sp ace/and\ttab',
    '/back\\slash',
    '/q?x=1+2&y=1%202',
    '/q?a&b=&c==&=d',
    '/q?%ZZ=%&%%=%25',
    '/q?emoji=😀&jp=日本&rtl=%D7%A9',
    '/q?semi=a;b&amp=a%26b&eq=a%3Db',
    '/t?',
    `/huge?x=${'a'.repeat(12_000)}`,
    `/many?${Array.from({ length: 5000 }, (_, i) => `p${(i * 7919) % 5000}=${i}`).join('&')}`,
    `/long/${'segment/'.repeat(2000)}end`,
  ]
  for (const [i, unusual] of urls.entries()) {
    // A prefix per case: '/café' and '/caf%C3%A9' are one URL, and must not meet here.
    const path = `/u${i}${unusual}`
    it(`${unusual.length > 60 ? `${unusual.slice(0, 40)}… (${unusual.length} chars)` : JSON.stringify(unusual)}`, async () => {
      const before = seen.length
      const first = await cachedFetch(base + path)
      const text = await first.text()
      assert.equal(hits(first), false)
      assert.equal(first.status, 200)
      const second = await cachedFetch(base + path)
      assert.equal(hits(second), true)
      assert.equal(await second.text(), text)
      assert.equal(seen.length, before + 1)
    })
  }

  const distinct: [string, string, string][] = [
    ['repeated names keep their order', '/r?a=1&a=2', '/r?a=2&a=1'],
    ['an encoded & is data, not a separator', '/s?a=b%26c=d', '/s?a=b&c=d'],
    ['paths are case-sensitive', '/Case', '/case'],
    ['an encoded plus is not a space', '/p?x=1%2B2', '/p?x=1+2'],
    ['a `;` separates pairs to some servers (Rack < 3, Python < 3.9.2, Go < 1.17)', '/sc?a=1;b=2', '/sc?a=1%3Bb%3D2'],
    ['a bare name is not an empty value', '/fl?flag', '/fl?flag='],
    ['a plus and an encoded space are kept apart', '/ps?x=a+b', '/ps?x=a%20b'],
    ['an encoded slash is not a separator', '/x%2Fy', '/x/y'],
  ]
  for (const [what, a, b] of distinct) {
    it(`different URLs never share an entry: ${what}`, async () => {
      const first = await (await cachedFetch(base + a)).text()
      const other = await cachedFetch(base + b)
      assert.equal(hits(other), false)
      assert.notEqual(await other.text(), first)
    })
  }

  const shared: [string, string, string][] = [
    ['query parameters are sorted by name', '/o?b=2&a=1', '/o?a=1&b=2'],
    ['the fragment is not sent, and not keyed', '/f#one', '/f#two'],
    ['the scheme is case-insensitive', '/h', '/h'],
    ['percent-encoded and raw UTF-8 are one URL', '/caf%C3%A9-x', '/café-x'],
  ]
  for (const [what, a, b] of shared) {
    it(`equivalent URLs share an entry, as documented: ${what}`, async () => {
      await (await cachedFetch(base + a)).text()
      const other = await cachedFetch((what.startsWith('scheme') ? base.replace('http', 'HTTP') : base) + b)
      assert.equal(hits(other), true)
      await other.text()
    })
  }
})

describe('bodies of every BodyInit type, POST allowed: the same body twice is a hit, another body is not', () => {
  const cachedFetch = createCachedFetch({ backend: 'memory', allowableMethods: ['GET', 'POST'] })
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
  const padded = (n: number, seed: number) => {
    // A view in the middle of a larger buffer: only the view's bytes are the body.
    const buffer = new ArrayBuffer(n + 64)
    new Uint8Array(buffer).fill(0xee)
    new Uint8Array(buffer, 16, n).set(bytes(n, seed))
    return { buffer, offset: 16 }
  }
  const makers: [string, (variant: number) => NonNullable<RequestInit['body']>][] = [
    ['string', (v) => `hello body ${v}`],
    ['URLSearchParams', (v) => new URLSearchParams({ a: '1', b: String(v) })],
    ['ArrayBuffer', (v) => bytes(40, v).buffer as ArrayBuffer],
    ['Uint8Array', (v) => bytes(40, v)],
    ['Uint8Array view at an offset', (v) => new Uint8Array(padded(40, v).buffer, 16, 40)],
    ['Int16Array', (v) => new Int16Array(bytes(40, v).buffer)],
    ['Float64Array', (v) => new Float64Array(bytes(40, v).buffer)],
    ['BigInt64Array', (v) => new BigInt64Array(bytes(40, v).buffer)],
    ['DataView at an offset', (v) => new DataView(padded(40, v).buffer, 16, 40)],
    ['Blob', (v) => new Blob([bytes(40, v)], { type: 'application/octet-stream' })],
    [
      'FormData with a file',
      (v) => {
        const form = new FormData()
        form.append('field', `value ${v}`)
        form.append('file', new Blob([bytes(40, v)], { type: 'image/png' }), 'a.png')
        return form
      },
    ],
  ]
  for (const [name, make] of makers) {
    it(name, async () => {
      const url = `${base}/body/${encodeURIComponent(name)}`
      const before = seen.length
      const first = await cachedFetch(url, { method: 'POST', body: make(1) })
      const text = await first.text()
      assert.equal(hits(first), false)
      assert.match(text, /body=[1-9]/, 'the origin got the body')
      const again = await cachedFetch(url, { method: 'POST', body: make(1) })
      assert.equal(hits(again), true, 'an equal body, in a new object, is the same request')
      assert.equal(await again.text(), text)
      const other = await cachedFetch(url, { method: 'POST', body: make(2) })
      assert.equal(hits(other), false, 'another body is another request')
      assert.notEqual(await other.text(), text)
      assert.equal(seen.length, before + 2)
    })
  }

  it('a view at an offset is keyed by its own bytes: the same as a fresh array of them', async () => {
    const url = `${base}/body/view-vs-fresh`
    await (await cachedFetch(url, { method: 'POST', body: new Uint8Array(padded(40, 9).buffer, 16, 40) })).text()
    const fresh = await cachedFetch(url, { method: 'POST', body: bytes(40, 9) })
    assert.equal(hits(fresh), true)
    assert.match(await fresh.text(), /body=40:/)
  })

  it('JSON bodies with keys in another order share an entry, as documented', async () => {
    const url = `${base}/body/json`
    const headers = { 'content-type': 'application/json' }
    await (await cachedFetch(url, { method: 'POST', headers, body: '{"b":1,"a":[1,{"y":2,"x":1}]}' })).text()
    const reordered = await cachedFetch(url, { method: 'POST', headers, body: '{"a":[1,{"x":1,"y":2}],"b":1}' })
    assert.equal(hits(reordered), true)
    await reordered.text()
  })

  it('a ReadableStream body bypasses the cache: sent whole every time, never stored', async () => {
    const store = new MemoryStore()
    const streaming = createCachedFetch({ backend: store, allowableMethods: ['GET', 'POST'] })
    const url = `${base}/body/stream`
    const before = seen.length
    for (let i = 0; i < 2; i++) {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(bytes(1000, 3))
          controller.close()
        },
      })
      const response = await streaming(url, { method: 'POST', body, duplex: 'half' } as RequestInit)
      assert.equal(hits(response), false)
      assert.match(await response.text(), /body=1000:/)
    }
    assert.equal(seen.length, before + 2)
    assert.equal(await storedCount(store), 0)
  })

  it('a Request with a body bypasses the cache, and its body is sent, not consumed by the cache', async () => {
    const url = `${base}/body/request`
    for (let i = 0; i < 2; i++) {
      const response = await cachedFetch(new Request(url, { method: 'POST', body: 'from a Request' }))
      assert.equal(hits(response), false)
      assert.match(await response.text(), /body=14:/)
    }
  })
})

describe('bodies through undici.request + cacheInterceptor', () => {
  const agent = new Agent().compose(cacheInterceptor({ backend: 'memory', allowableMethods: ['GET', 'POST'] }))
  after(() => agent.close())
  const post = async (path: string, body: string | Uint8Array | Readable) => {
    const response = await request(`${base}${path}`, { method: 'POST', body, dispatcher: agent })
    return { text: await response.body.text(), hit: String(response.headers['cache-status']).includes('; hit') }
  }

  for (const [name, make] of [
    ['string', (v: number) => `body ${v}`],
    ['Buffer', (v: number) => Buffer.from(`body ${v}`)],
    ['Uint8Array', (v: number) => new TextEncoder().encode(`body ${v}`)],
  ] as const) {
    it(`${name}: the same body twice is a hit, another is not`, async () => {
      const first = await post(`/u/${name}`, make(1))
      assert.equal(first.hit, false)
      const again = await post(`/u/${name}`, make(1))
      assert.equal(again.hit, true)
      assert.equal(again.text, first.text)
      assert.equal((await post(`/u/${name}`, make(2))).hit, false)
    })
  }

  it('a stream body bypasses the cache and is sent whole', async () => {
    for (let i = 0; i < 2; i++) {
      const result = await post('/u/stream', Readable.from([Buffer.from('streamed '), Buffer.from('body')]))
      assert.equal(result.hit, false)
      assert.match(result.text, /body=13:/)
    }
  })
})
