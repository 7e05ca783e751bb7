import { type Contender, drain } from './contender.js'

/** The baseline: Node's built-in fetch, no cache. */
export const builtinFetch: Contender = {
  name: 'fetch',
  description: 'built-in fetch, no cache (baseline)',
  role: 'baseline',
  caches: false,
  revalidates: false,
  keeps: 'nothing',
  sqlite: false,
  async open() {
    return {
      get: async (url) => drain(await fetch(url)),
      close: async () => {},
    }
  },
}
