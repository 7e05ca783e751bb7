// `npm run demo`, twice. The first run fetches from a slow loopback origin and stores the response in
// a SQLite file; the second run is a new process, and the same request is answered from that file.
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheInfo, createCachedFetch } from '../lib/index.js'

const startedAt = Date.now()

// The cache: the SQLite store (the default backend) in ./demo_cache.sqlite. Kept between runs.
const cacheName = 'demo_cache'
const file = resolve(`${cacheName}.sqlite`)
const shown = relative(process.cwd(), file)
const cachedFetch = createCachedFetch({ cacheName, expireAfter: '1h' })

// The origin, started by each run. The port is part of the URL, and so of the cache key: both runs
// listen on the same fixed port so that they request the same URL.
const PORT = Number(process.env.DEMO_PORT ?? 47813) // DEMO_PORT: for the demo's own test
let originRequests = 0
const origin = createServer((_req, res) => {
  originRequests++
  setTimeout(() => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ message: 'hello from the origin', servedAt: new Date().toISOString() }))
  }, 150) // slow, so the difference a cache makes is visible
})
const port = await listen(origin, PORT)
const url = `http://127.0.0.1:${port}/greeting`

const stored = existsSync(file) ? await cachedFetch.cache.count() : 0
console.log(
  stored === 0
    ? `No cached responses yet: this run fills ${shown}.`
    : `${shown} holds ${plural(stored, 'response')}, written by an earlier run.`,
)
if (port !== PORT) {
  console.log(`(Port ${PORT} is busy, so the origin is on ${port} this time: a new URL, which the file has no entry for.)`)
}
console.log(`Fetching ${url} twice; the origin takes 150 ms to answer.\n`)

for (const attempt of [1, 2]) {
  const started = performance.now()
  const response = await cachedFetch(url)
  const body = await response.json()
  const elapsed = (performance.now() - started).toFixed(1)
  console.log(`${attempt}. ${response.status} in ${elapsed} ms: ${explain(cacheInfo(response))}`)
  console.log(`   Cache-Status: ${response.headers.get('cache-status')}`)
  console.log(`   body: ${JSON.stringify(body)}`)
}

console.log(`\nThe origin saw ${plural(originRequests, 'request')} in this run.`)
if (originRequests > 0) console.log('Run `npm run demo` again: a new process, answered from the file without the origin.')
else console.log(`To start over, delete ${shown}.`)
console.log(`Inspect the file with the CLI:\n  npx tsx ${cliPath()} stats --db ${shown}`)

await cachedFetch.cache.close()
origin.close()

/** What happened to one request, in words. */
function explain(info: ReturnType<typeof cacheInfo>): string {
  if (!info?.fromCache) return 'a miss, fetched from the origin and stored in the cache file'
  const createdAt = info.createdAt?.getTime() ?? startedAt
  if (createdAt >= startedAt) return 'a hit, served from the cache (stored a moment ago by this run)'
  const ago = Math.round((Date.now() - createdAt) / 1000)
  return `served from the cache file written by the previous run (stored ${ago} s ago); the origin was not asked`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** Listens on 127.0.0.1:`port`, or on any free port when that one is taken; resolves to the port. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const bound = () => done((server.address() as AddressInfo).port)
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return fail(error)
      server.once('error', fail)
      server.listen(0, '127.0.0.1', bound)
    })
    server.listen(port, '127.0.0.1', bound)
  })
}

/** The CLI's source, relative to where the demo runs (the repository root under `npm run demo`). */
function cliPath(): string {
  return relative(process.cwd(), fileURLToPath(new URL('../lib/cli/main.ts', import.meta.url)))
}
