import { cacheInfo, createCachedFetch } from '../../lib/index.js'
import { startOrigin } from '../helpers/origin.js'

// Run by debug.test.ts with NODE_DEBUG=fetch-http-cache: a miss that is stored, a hit, a POST (bypass
// and invalidation), each with an ignored parameter and credentials that must not show.
const origin = await startOrigin({
  '*': (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }).end('hello')
  },
})
const cachedFetch = createCachedFetch({ backend: 'memory', ignoredParameters: ['token'] })
const url = `${origin.url}/debug?token=SECRET-QUERY&api_key=SECRET-APIKEY`
const headers = { authorization: 'Bearer SECRET-AUTH', cookie: 'a=SECRET-COOKIE', 'x-api-key': 'SECRET-XAPIKEY' }
const miss = await cachedFetch(url, { headers })
await miss.text()
if ((await cacheInfo(miss)?.stored) !== true) throw new Error('the miss was not stored') // the write follows the body's end
await (await cachedFetch(url, { headers })).text()
await (await cachedFetch(url, { method: 'POST', body: 'x', headers })).text()
await cachedFetch.cache.close()
await origin.close()
