import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import http from 'node:http'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import { CHANNELS, installCache, type StoreEvent, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'

/**
 * A second origin request the cache makes for one node:http caller (a stale-while-revalidate
 * refresh, the retry after a 304 naming another ETag) is the cache's own: the caller's response
 * callback runs once, with the caller's answer, and clients that pass one (needle) keep working.
 */

const require = createRequire(import.meta.url)
type Needle = (
  method: string,
  url: string,
  data: null,
  options: { parse: boolean },
) => Promise<{ statusCode?: number; body: unknown }>
const needle = require('needle') as Needle

/** Resolves with the next entry stored for `path`. */
function nextStore(path: string): Promise<StoreEvent> {
  return new Promise((resolve) => {
    const onStore = (message: unknown) => {
      const event = message as StoreEvent
      if (new URL(event.url).pathname !== path) return
      unsubscribe(CHANNELS.store, onStore)
      resolve(event)
    }
    subscribe(CHANNELS.store, onStore)
  })
}

/** `http.get(url, callback)`: `calls` gets one line each time the callback runs; resolves with the first answer read to its end. */
function getWithCallback(url: string, calls: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        calls.push(`callback ${res.statusCode}`)
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve(`${res.statusCode} ${body}`))
      })
      .on('error', reject)
  })
}

describe('the cache’s own second origin request for a node:http caller', () => {
  let origin: Origin
  let served = 0

  before(async () => {
    origin = await startOrigin({
      // Stale at once, usable while it is refreshed in the background.
      '*': (_req, res) => {
        served++
        res
          .writeHead(200, { etag: `"v${served}"`, 'cache-control': 'max-age=0, stale-while-revalidate=600' })
          .end(`body ${served}`)
      },
      // Revalidated every time; the 304 names an ETag the cache does not hold, so it retries unconditionally.
      '/other-etag': (req, res) => {
        served++
        if (req.headers['if-none-match']) return void res.writeHead(304, { etag: '"other"' }).end()
        res.writeHead(200, { etag: `"v${served}"`, 'cache-control': 'no-cache' }).end(`body ${served}`)
      },
    })
    installCache({ backend: 'memory', cacheControl: true, nodeHttp: true })
  })

  after(async () => {
    uninstallCache()
    await origin.close()
  })

  it('a stale-while-revalidate refresh never runs the caller’s response callback', async () => {
    await getWithCallback(`${origin.url}/swr`, [])
    const refreshed = nextStore('/swr')
    const calls: string[] = []
    const stale = await getWithCallback(`${origin.url}/swr`, calls)
    await refreshed
    assert.equal(origin.count('/swr'), 2, 'the refresh reached the origin')
    assert.equal(stale, `200 body ${served - 1}`)
    assert.deepEqual(calls, ['callback 200'])
  })

  it('the unconditional retry after a 304 naming another ETag runs the caller’s callback once, with the retry’s answer', async () => {
    await getWithCallback(`${origin.url}/other-etag`, [])
    const calls: string[] = []
    const retried = await getWithCallback(`${origin.url}/other-etag`, calls)
    assert.equal(origin.count('/other-etag'), 3, 'a miss, a revalidation, a retry')
    assert.equal(retried, `200 body ${served}`)
    assert.deepEqual(calls, ['callback 200'])
  })

  it('the retry’s answer reaches a caller listening for response itself, to its end', async () => {
    await getWithCallback(`${origin.url}/other-etag?listening`, [])
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${origin.url}/other-etag?listening`)
      req.on('response', (res: http.IncomingMessage) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve(text))
      })
      req.on('error', reject)
    })
    assert.equal(body, `body ${served}`)
  })

  it('needle, which passes a callback, gets the stale answer and then the retry’s answer', async () => {
    const get = async (path: string) => {
      const res = await needle('get', origin.url + path, null, { parse: false })
      return `${res.statusCode} ${String(res.body)}`
    }
    await get('/swr-needle')
    const refreshed = nextStore('/swr-needle')
    const stale = await get('/swr-needle')
    await refreshed
    assert.equal(stale, `200 body ${served - 1}`)
    await get('/other-etag?needle')
    assert.equal(await get('/other-etag?needle'), `200 body ${served}`)
  })
})
