import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { it } from 'node:test'
import { type FrontKind, forEachFront } from '../helpers/fronts.js'
import { startOrigin } from '../helpers/origin.js'
import { uncachedRaw } from '../helpers/uncached.js'

/**
 * A field the origin sends on several lines reaches each client as it does without the cache, on a
 * miss, a hit and a pass-through: fetch joins the lines, undici gives an array, Node keeps the first
 * of a field it allows once (`Content-Type`, `ETag`) and joins the others (see http/field-lines.ts).
 */

const NAMES = ['content-type', 'etag', 'link', 'www-authenticate']

const LINES = [
  ['Content-Type', 'application/json'],
  ['Content-Type', 'text/html; charset=utf-8'],
  ['ETag', '"a"'],
  ['ETag', '"b"'],
  ['Link', '</a>; rel=preload'],
  ['Link', '</b>; rel=preload'],
  ['WWW-Authenticate', 'Basic'],
  ['WWW-Authenticate', 'Bearer'],
  ['Cache-Control', 'max-age=60'],
]

/** The repeated fields as the client shows them. */
function view(kind: FrontKind['name'], raw: unknown): unknown {
  if (kind === 'fetch') return NAMES.map((name) => [name, (raw as Response).headers.get(name)])
  if (kind === 'dispatcher') {
    const headers = (raw as { headers: Record<string, unknown> }).headers
    return NAMES.map((name) => [name, headers[name]])
  }
  const res = raw as IncomingMessage
  return NAMES.map((name) => [name, res.headers[name], res.headersDistinct[name]])
}

forEachFront('a response field sent on several lines', (kind) => {
  it('is given on a miss, a hit and a POST as the client gives it without the cache', async (t) => {
    const origin = await startOrigin({
      '*': (_req, res) => {
        res.writeHead(200, LINES.flat())
        res.end('ok')
      },
    })
    const front = kind.open({ backend: 'memory' })
    t.after(async () => {
      await front.close()
      await origin.close()
    })
    const expected = view(kind.name, await uncachedRaw(kind.name, `${origin.url}/page`))
    const miss = await front.get(`${origin.url}/page`)
    assert.equal(await miss.text(), 'ok')
    assert.deepEqual(view(kind.name, miss.raw), expected)
    await front.settled()
    const hit = await front.get(`${origin.url}/page`)
    assert.equal(await hit.text(), 'ok')
    assert.equal(hit.hit, true)
    assert.deepEqual(view(kind.name, hit.raw), expected)
    const post = await front.get(`${origin.url}/form`, { method: 'POST', body: 'x' })
    assert.equal(await post.text(), 'ok')
    assert.deepEqual(view(kind.name, post.raw), view(kind.name, await uncachedRaw(kind.name, `${origin.url}/form`, 'POST')))
  })
})
