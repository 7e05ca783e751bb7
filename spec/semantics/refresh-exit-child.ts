/**
 * A process whose stale-while-revalidate refresh goes to an origin that never answers (ORIGIN_URL, in
 * the parent): it prints `done` once its own work is finished, and must then exit on its own.
 */
import { createCachedFetchWithClock } from '../../lib/install/session.js'

let offset = 0
const cachedFetch = createCachedFetchWithClock(
  { backend: 'memory', expireAfter: 60, staleWhileRevalidate: true },
  () => Date.now() + offset,
)
const url = `${process.env.ORIGIN_URL}/refresh`
await (await cachedFetch(url)).text()
offset += 61_000
const stale = await cachedFetch(url)
await stale.text()
process.stdout.write(`done ${stale.headers.get('cache-status')}\n`)
