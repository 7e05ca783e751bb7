// The demo `npm run demo` runs: a loopback origin, the default SQLite store, the same URL fetched
// twice. The first request goes to the origin; the second is answered from the cache file.
import { rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { cacheInfo, createCachedFetch } from '../lib/index.js'

let originRequests = 0
const origin = createServer((_req, res) => {
  originRequests++
  // A slow origin, so the difference a cache makes is visible.
  setTimeout(() => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ message: 'hello from the origin', servedAt: new Date().toISOString() }))
  }, 150)
})
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/greeting`

// The default store: http_cache.sqlite in the working directory (here, a fresh one for the demo).
const cacheName = join(process.cwd(), 'demo_cache')
await rm(`${cacheName}.sqlite`, { force: true })
const cachedFetch = createCachedFetch({ cacheName, expireAfter: '1h' })

for (const attempt of ['first', 'second']) {
  const started = performance.now()
  const response = await cachedFetch(url)
  const body = await response.json()
  const elapsed = (performance.now() - started).toFixed(2)
  const info = cacheInfo(response)
  console.log(`${attempt} request: ${response.status} in ${elapsed} ms, from cache: ${info?.fromCache}`)
  console.log(`  Cache-Status: ${response.headers.get('cache-status')}`)
  console.log(`  body: ${JSON.stringify(body)}`)
}

console.log(
  `origin saw ${originRequests} request(s); ${await cachedFetch.cache.count()} response(s) stored in ${cacheName}.sqlite`,
)
await cachedFetch.cache.close()

// A restart: a new cache on the same file still has the entry.
const afterRestart = createCachedFetch({ cacheName, expireAfter: '1h' })
const response = await afterRestart(url)
await response.arrayBuffer()
console.log(`after a restart: from cache: ${cacheInfo(response)?.fromCache}; origin saw ${originRequests} request(s)`)
await afterRestart.cache.close()
await rm(`${cacheName}.sqlite`, { force: true })
origin.close()
