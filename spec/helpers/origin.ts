import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One request as the origin saw it. */
export interface SeenRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>

/** A loopback origin that counts and records what it is sent. */
export interface Origin {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** The server, for a test that tunes it (its keep-alive timeout, say). */
  server: Server
  /** Every request, in order. */
  requests: SeenRequest[]
  /** How many requests reached the origin (optionally for one path, query included). */
  count(path?: string): number
  /** Replaces the handler for a path (exact match on the path with query), or the default (`'*'`). */
  route(path: string, handler: Route): void
  close(): Promise<void>
}

/**
 * Starts a `node:http` origin on 127.0.0.1, port 0. Default route: 200 `text/plain` with body
 * `hello <path>`. Closes idle keep-alive sockets on `close()`.
 */
export async function startOrigin(routes: Record<string, Route> = {}): Promise<Origin> {
  const table = new Map<string, Route>(Object.entries(routes))
  const requests: SeenRequest[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const path = req.url ?? '/'
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body })
    const handler = table.get(path) ?? table.get(new URL(path, 'http://x').pathname) ?? table.get('*')
    try {
      if (handler) await handler(req, res, body)
      else {
        res.setHeader('content-type', 'text/plain')
        res.end(`hello ${path}`)
      }
    } catch (error) {
      res.statusCode = 500
      res.end(String(error))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.path === path).length),
    route: (path, handler) => void table.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A temp directory, removed by the returned `cleanup`. */
export async function tempDir(prefix = 'fetch-http-cache-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}
