// The strict TypeScript consumer of the packed tarball (.ci/pack-test.mjs): compiled without skipLibCheck
// against the installed package, then run as the ESM consumer. `node consumer.js <dir>` keeps its SQLite
// file in <dir> (the CLI is run on it afterwards). Network traffic only to a loopback origin it starts.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import {
  type Cache,
  type CacheInterceptor,
  cacheInfo,
  cacheInterceptor,
  createCachedFetch,
  installCache,
  type RequestCacheOptions,
  uninstallCache,
} from 'fetch-http-cache'
import { Agent, request } from 'undici'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: node consumer.js <dir>')

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`strict consumer: ${what}`)
}

let served = 0
const server = createServer((req, res) => {
  served++
  res.setHeader('content-type', 'text/plain')
  res.end(`hello ${req.url}`)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

try {
  // installCache(): the global fetch and undici.request(), both with typed cacheOptions.
  installCache({ backend: 'memory' })
  const perRequest: RequestCacheOptions = { expireAfter: '5m' }
  await (await fetch(`${origin}/global`, { cacheOptions: perRequest })).text()
  const hit = await fetch(`${origin}/global`, { cache: 'force-cache', cacheOptions: { staleIfError: true } })
  check(cacheInfo(hit)?.fromCache === true, 'the second global fetch is a hit')
  check(cacheInfo(hit)?.cacheKey?.length === 64, 'cacheInfo() gives the key')
  // @ts-expect-error: no such per-request option; the type says so
  const misspelt: Parameters<typeof fetch>[1] = { cacheOptions: { expiresAfter: '5m' } }
  void misspelt
  const viaUndici = await request(`${origin}/undici`, { cacheOptions: { forceRefresh: true } })
  await viaUndici.body.text()
  check(String(viaUndici.headers['cache-status']).startsWith('fetch-http-cache;'), 'undici.request() goes through the cache')
  uninstallCache()

  // createCachedFetch(): the default SQLite store, on better-sqlite3's prebuilt binary.
  const cachedFetch = createCachedFetch({ cacheName: join(dir, 'consumer') })
  await (await cachedFetch(`${origin}/session`, { cacheOptions: { refresh: false } })).text()
  const again = await cachedFetch(`${origin}/session`)
  check(cacheInfo(again)?.fromCache === true, 'the second cachedFetch is a hit')
  check((await cachedFetch.cache.count()) === 1, 'cachedFetch.cache counts one entry')
  await cachedFetch.cache.close()

  // cacheInterceptor(): an Agent composed by hand, its cache in hand.
  const interceptor: CacheInterceptor = cacheInterceptor({ backend: 'memory' })
  const agent = new Agent().compose(interceptor)
  await (await request(`${origin}/agent`, { dispatcher: agent })).body.text()
  const cache: Cache = interceptor.cache
  check((await cache.count()) === 1, 'cacheInterceptor().cache counts one entry')
  await agent.close()
  await cache.close()

  check(served === 4, `the origin saw ${served} requests, expected 4 (one per URL)`)
  console.log(`strict TypeScript consumer (ESM) ok on Node ${process.version}`)
} finally {
  server.close()
}
