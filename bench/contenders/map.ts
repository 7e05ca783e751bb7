import { type Contender, drain } from './contender.js'

/**
 * The limit: a Map of URL → bytes answering with `new Response(bytes)`. No key, no policy, no
 * headers: the least work a fetch-shaped hit can do. A miss fetches and keeps the bytes.
 */
export const mapLimit: Contender = {
  name: 'map',
  description: 'Map of URL → bytes, `new Response(bytes)` (the limit)',
  role: 'limit',
  caches: true,
  revalidates: false,
  keeps: 'heap',
  sqlite: false,
  async open() {
    let map = new Map<string, Uint8Array>()
    return {
      async get(url) {
        const bytes = map.get(url)
        if (bytes) return drain(new Response(bytes))
        const fetched = new Uint8Array(await (await fetch(url)).arrayBuffer())
        map.set(url, fetched)
        return fetched.byteLength
      },
      async close() {
        map = new Map()
      },
    }
  },
}
