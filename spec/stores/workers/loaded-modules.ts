import { createRequire } from 'node:module'
import { startOrigin, tempDir } from '../../helpers/origin.js'

/**
 * Imports the package, uses the cache on the backend named by argv[2] (one request stored, then a
 * hit), and prints whether better-sqlite3 was loaded, as JSON on stdout.
 */
const backend = process.argv[2] as 'memory' | 'sqlite'
const lib = await import('../../../lib/index.js')
const origin = await startOrigin()
const { dir, cleanup } = await tempDir('fetch-http-cache-loading-')
const cachedFetch = lib.createCachedFetch(backend === 'memory' ? { backend } : { backend, cacheName: `${dir}/cache.sqlite` })
try {
  for (let i = 0; i < 2; i++) await (await cachedFetch(`${origin.url}/x`)).text()
} finally {
  await cachedFetch.cache.close()
  await origin.close()
  await cleanup()
}
const require = createRequire(import.meta.url)
const loaded = Object.keys(require.cache).some((path) => /[\\/]better-sqlite3[\\/]/.test(path))
process.stdout.write(JSON.stringify({ loaded }))
