import { request } from 'undici'
import type { Contender } from './contender.js'

/** `undici.request()` with undici's default dispatcher, no cache. */
export const undiciRequest: Contender = {
  name: 'undici-request',
  description: '`undici.request()`, no cache',
  role: 'reference',
  caches: false,
  revalidates: false,
  keeps: 'nothing',
  sqlite: false,
  async open() {
    return {
      async get(url) {
        const { body } = await request(url)
        return (await body.arrayBuffer()).byteLength
      },
      close: async () => {},
    }
  },
}
