import assert from 'node:assert/strict'
import http, { type IncomingMessage } from 'node:http'
import { after, afterEach, before, it } from 'node:test'
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'

/**
 * msw's request interception (@mswjs/interceptors, which msw 3 and nock 15 are built on) beside the
 * node:http front: it ties a socket to its request through the async context `http.request` was
 * called in, so the connection the cache asks for later must be asked for in that context.
 */
let origin: Origin
before(async () => {
  origin = await startOrigin()
})
after(() => origin.close())
afterEach(() => uninstallCache())

function get(url: string): Promise<{ body: string; cacheStatus: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res: IncomingMessage) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ body, cacheStatus: res.headers['cache-status'] as string | undefined }))
      })
      .on('error', reject)
  })
}

for (const order of ['interceptor, then installCache()', 'installCache(), then interceptor'] as const) {
  it(`${order}: a mocked request is answered by the mock, never the network, and then from the cache`, async () => {
    const interceptor = new ClientRequestInterceptor()
    let mocked = 0
    interceptor.on('request', ({ controller }) => {
      mocked++
      controller.respondWith(new Response('MOCKED', { headers: { 'cache-control': 'max-age=600' } }))
    })
    const path = `/msw/${order.startsWith('interceptor') ? 'first' : 'second'}`
    if (order.startsWith('interceptor')) interceptor.apply()
    installCache({ backend: 'memory', nodeHttp: true })
    if (!order.startsWith('interceptor')) interceptor.apply()
    try {
      const first = await get(`${origin.url}${path}`)
      assert.equal(first.body, 'MOCKED')
      assert.match(String(first.cacheStatus), /fwd=miss/)
      const second = await get(`${origin.url}${path}`)
      assert.equal(second.body, 'MOCKED')
      assert.match(String(second.cacheStatus), /; hit/)
      assert.equal(mocked, 1)
      assert.equal(origin.count(path), 0, 'the network was never asked')
    } finally {
      interceptor.dispose()
    }
  })
}
