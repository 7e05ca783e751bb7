import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { createServer, type Server } from 'node:net'
import { it } from 'node:test'
import { type FrontKind, forEachFront } from '../helpers/fronts.js'
import { uncachedRaw } from '../helpers/uncached.js'

/**
 * Response field names that are also members of `Object.prototype`: the fields objects the fronts
 * build must hold them as the clients do without the cache (Node's `headersDistinct` and undici's
 * headers are prototype-less), never crash on them nor let them reach a prototype.
 */

const NAMES = ['constructor', '__proto__', 'tostring', 'hasownproperty']

/** An origin that answers every request with the four fields, written by hand (Node would refuse none). */
async function rawOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer((socket) =>
    socket.once('data', () =>
      socket.end(
        'HTTP/1.1 200 OK\r\nConstructor: x\r\n__proto__: y\r\ntoString: z\r\nhasOwnProperty: w\r\n' +
          'Cache-Control: max-age=60\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
      ),
    ),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/x`, server }
}

/** The four fields as the client shows them, own values only. */
function view(kind: FrontKind['name'], raw: unknown): unknown {
  const own = (object: object) => NAMES.map((name) => [name, Object.hasOwn(object, name) ? (object as never)[name] : '-'])
  if (kind === 'fetch') return NAMES.map((name) => [name, (raw as Response).headers.get(name)])
  if (kind === 'dispatcher') {
    const headers = (raw as { headers: object }).headers
    return { prototype: Object.getPrototypeOf(headers), fields: own(headers) }
  }
  const res = raw as IncomingMessage
  let distinct: IncomingMessage['headersDistinct']
  try {
    distinct = res.headersDistinct
  } catch {
    // Node 22.19's own getter throws on a `constructor` field (later Nodes build it without a
    // prototype): there is nothing to compare the cache's with.
    return { headers: own(res.headers) }
  }
  return { headers: own(res.headers), distinct: own(distinct), prototype: Object.getPrototypeOf(distinct) }
}

/** What is compared of a cached response: all of `view`, but what Node itself could not show. */
function comparable(actual: unknown, expected: unknown): unknown {
  const shown = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && 'headers' in value
  if (!shown(actual) || !shown(expected) || 'distinct' in expected) return actual
  return { headers: actual.headers }
}

forEachFront('response fields named after Object.prototype members', (kind) => {
  it('are served on a miss and a hit as the client gives them without the cache', async (t) => {
    const { url, server } = await rawOrigin()
    const front = kind.open({ backend: 'memory' })
    t.after(async () => {
      await front.close()
      server.close()
    })
    const expected = view(kind.name, await uncachedRaw(kind.name, url))
    const miss = await front.get(url)
    assert.equal(await miss.text(), 'ok')
    assert.deepEqual(comparable(view(kind.name, miss.raw), expected), expected)
    await front.settled()
    const hit = await front.get(url)
    assert.equal(await hit.text(), 'ok')
    assert.equal(hit.hit, true)
    assert.deepEqual(comparable(view(kind.name, hit.raw), expected), expected)
  })
})
