// The CommonJS consumer of the packed tarball (.ci/pack-test.mjs): the package is ESM, and `require()`
// of it works on Node 22.12 and later (synchronous ESM graphs; the package has no top-level await).
const { createServer } = require('node:http')
const { cacheInfo, createCachedFetch, isFetchCacheError } = require('fetch-http-cache')

const server = createServer((req, res) => res.end(`hello ${req.url}`))
server.listen(0, '127.0.0.1', async () => {
  try {
    const url = `http://127.0.0.1:${server.address().port}/cjs`
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    await (await cachedFetch(url)).text()
    const hit = await cachedFetch(url)
    if (cacheInfo(hit)?.fromCache !== true) throw new Error('CommonJS consumer: the second fetch is not a hit')
    if (typeof isFetchCacheError !== 'function') throw new Error('CommonJS consumer: a named export is missing')
    await cachedFetch.cache.close()
    console.log(`CommonJS consumer ok on Node ${process.version}`)
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    server.close()
  }
})
