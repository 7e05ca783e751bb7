/**
 * The loopback origin the benchmarks talk to, run in a process of its own (started by
 * `processes.ts`), so serving requests never counts against a contender's CPU. It counts what it
 * serves per route; `GET /stats` reports the counts and `GET /reset` zeroes them (neither counted).
 *
 * Routes:
 * - `/hit/<n>`, `/miss/<id>`: 1 KiB, `Cache-Control: max-age=86400`, an `ETag`.
 * - `/etag/<n>`: 1 KiB, `Cache-Control: no-cache`, `ETag: "e1"`; `If-None-Match: "e1"` gets a 304.
 * - `/big`: 1 MiB, `Cache-Control: max-age=86400`, an `ETag`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BIG_BODY, type OriginCounts, SMALL_BODY } from './origin-counts.js'

const LAST_MODIFIED = new Date(Date.UTC(2025, 0, 1)).toUTCString()
const ETAG = '"e1"'

function body(size: number): Buffer {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = 97 + (i % 26)
  return bytes
}

function zero(): OriginCounts {
  return { requests: 0, hit: 0, miss: 0, etagFull: 0, etagNotModified: 0, big: 0, other: 0 }
}

function serve(): void {
  const small = body(SMALL_BODY)
  const big = body(BIG_BODY)
  let counts = zero()

  const send = (res: ServerResponse, bytes: Buffer, cacheControl: string, etag: string) => {
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': bytes.byteLength,
      'cache-control': cacheControl,
      etag,
      'last-modified': LAST_MODIFIED,
    })
    res.end(bytes)
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/'
    if (path === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(counts))
      return
    }
    if (path === '/reset') {
      counts = zero()
      res.end()
      return
    }
    counts.requests++
    if (path.startsWith('/hit/')) {
      counts.hit++
      send(res, small, 'max-age=86400', `"h${path.slice(5)}"`)
    } else if (path.startsWith('/miss/')) {
      counts.miss++
      send(res, small, 'max-age=86400', `"m${path.slice(6)}"`)
    } else if (path.startsWith('/etag/')) {
      if (req.headers['if-none-match'] === ETAG) {
        counts.etagNotModified++
        res.writeHead(304, { 'cache-control': 'no-cache', etag: ETAG, 'last-modified': LAST_MODIFIED })
        res.end()
      } else {
        counts.etagFull++
        send(res, small, 'no-cache', ETAG)
      }
    } else if (path === '/big') {
      counts.big++
      send(res, big, 'max-age=86400', '"big"')
    } else {
      counts.other++
      res.writeHead(404)
      res.end()
    }
  })
  // Contenders keep their sockets between samples: never let the origin close them first.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 130_000
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    process.send?.({ port })
  })
  // The parent going away (even killed) ends the origin.
  process.on('disconnect', () => {
    server.closeAllConnections()
    server.close()
    process.exit(0)
  })
}

if (process.send) serve()
