import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import zlib from 'node:zlib'
import { FETCH, type FrontResponse, forEachFront } from '../helpers/fronts.js'
import { type Rig, rig } from '../rfc9111/harness.js'

const TEXT = 'a representation, content-coded by the origin. '.repeat(40)

/** Node's fetch removes zstd from undici 7.11 on (Node 24); Node 22's undici 6 hands it out coded. */
const FETCH_DECODES_ZSTD = Number(process.versions.node.split('.')[0]) >= 24

const CODERS: Record<string, (text: string) => Buffer> = {
  gzip: (text) => zlib.gzipSync(text),
  zstd: (text) => zlib.zstdCompressSync(text),
  // undici's fetch decodes a list only when it knows every member: it leaves this one coded.
  'gzip, identity': (text) => zlib.gzipSync(text),
  // A coding neither fetch nor the cache removes: the bytes are opaque.
  compress: (text) => Buffer.from(`LZW:${text}`),
}

async function bytes(response: FrontResponse): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of response.body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The content a client reads from a response: what fetch has not decoded, it decodes as the field says. */
function content(front: string, response: FrontResponse, body: Buffer): string {
  const coding = response.header('content-encoding')
  const decodedByFetch = front === 'fetch' && (coding === 'gzip' || (coding === 'zstd' && FETCH_DECODES_ZSTD))
  if (!coding || decodedByFetch) return body.toString()
  if (coding === 'compress') return body.toString().slice(4)
  const gunzipped = coding === 'zstd' ? zlib.zstdDecompressSync(body) : zlib.gunzipSync(body)
  return gunzipped.toString()
}

/** A path on `r`'s origin that answers `coding`-coded TEXT, fresh for ten minutes. */
function coded(r: Rig, coding: string): string {
  const path = `/coded/${coding.replace(/\W+/g, '-')}/${Math.random().toString(36).slice(2)}`
  r.origin.route(path, (req, res: ServerResponse) => {
    const body = CODERS[coding]?.(TEXT) ?? Buffer.alloc(0)
    res.writeHead(200, { 'content-encoding': coding, 'content-length': body.byteLength, 'cache-control': 'max-age=600' })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  return path
}

/** Content-coded responses: a hit serves the content the miss did, and the fields describe the body served. */
forEachFront('content-codings', (front) => {
  let r: Rig
  const errors: unknown[] = []
  before(async () => {
    r = await rig(front, { onError: (error) => errors.push(error) })
  })
  after(() => r.close())

  for (const coding of ['gzip', 'zstd', 'gzip, identity']) {
    it(`a ${coding} response is stored, and a hit serves its content with fields that describe the body served`, async () => {
      const path = coded(r, coding)
      const miss = await r.front.get(r.url(path))
      assert.equal(content(front.name, miss, await bytes(miss)), TEXT)
      await r.front.settled()
      const hit = await r.front.get(r.url(path))
      const body = await bytes(hit)
      assert.equal(hit.hit, true)
      assert.equal(r.origin.count(path), 1)
      assert.equal(content(front.name, hit, body), TEXT)
      if (!hit.header('content-encoding')) assert.equal(hit.header('content-length'), String(body.byteLength))
      assert.deepEqual(errors, [])
    })
  }

  it('a coding the cache cannot remove passes as it came, is not stored, and is no error of the cache', async () => {
    const path = coded(r, 'compress')
    for (let i = 0; i < 2; i++) {
      const response = await r.front.get(r.url(path))
      assert.deepEqual(await bytes(response), CODERS.compress?.(TEXT))
      assert.equal(response.header('content-encoding'), 'compress')
      assert.equal(response.hit, false)
      assert.equal(response.stored, false, 'Cache-Status does not claim it stored')
      await r.front.settled()
    }
    assert.equal(r.origin.count(path), 2)
    assert.deepEqual(errors, [])
  })

  it('a HEAD to a content-coded resource is stored and answered from the cache, with no error', async () => {
    for (const coding of ['gzip', 'zstd']) {
      const path = coded(r, coding)
      const first = await r.front.get(r.url(path), { method: 'HEAD' })
      await first.text()
      await r.front.settled()
      const second = await r.front.get(r.url(path), { method: 'HEAD' })
      assert.equal(await second.text(), '')
      assert.equal(second.hit, true, coding)
      assert.equal(r.origin.count(path), 1, coding)
    }
    assert.deepEqual(errors, [])
  })
})

describe('content-codings through fetch', () => {
  let r: Rig
  before(async () => {
    r = await rig(FETCH)
  })
  after(() => r.close())

  it('on a hit, fetch keeps Content-Encoding, as on a miss, only for a coding it decodes itself', async () => {
    for (const [coding, kept] of [
      ['gzip', true],
      ['zstd', FETCH_DECODES_ZSTD],
      ['gzip, identity', false],
    ] as const) {
      const path = coded(r, coding)
      await bytes(await r.front.get(r.url(path)))
      await r.front.settled()
      const hit = await r.front.get(r.url(path))
      assert.equal(hit.hit, true, coding)
      assert.equal((await bytes(hit)).toString(), TEXT, coding)
      assert.equal(hit.header('content-encoding'), kept ? coding : undefined, coding)
    }
  })
})
