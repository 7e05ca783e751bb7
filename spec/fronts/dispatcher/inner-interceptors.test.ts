import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Agent, interceptors, request } from 'undici'
import { cacheInterceptor } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'

test('a body an interceptor between the cache and the origin dropped is not stored for other callers', async (t) => {
  const origin = await startOrigin()
  const interceptor = cacheInterceptor({ backend: 'memory' })
  // undici applies the last interceptor outermost: the cache sees the response after dump() drops its body.
  const dumping = new Agent().compose(interceptors.dump({ maxSize: 1000 }), interceptor)
  const plain = new Agent().compose(interceptor)
  t.after(async () => {
    await dumping.close()
    await plain.close()
    await interceptor.cache.close()
    await origin.close()
  })
  const dumped = await request(`${origin.url}/a`, { dispatcher: dumping })
  assert.equal(await dumped.body.text(), '')
  const whole = await request(`${origin.url}/a`, { dispatcher: plain })
  assert.equal(await whole.body.text(), 'hello /a')
  assert.match(String(whole.headers['cache-status']), /fwd=miss/)
  assert.equal(origin.count('/a'), 2)
  // The whole body is stored: the next caller gets it from the cache.
  const hit = await request(`${origin.url}/a`, { dispatcher: plain })
  assert.equal(await hit.body.text(), 'hello /a')
  assert.match(String(hit.headers['cache-status']), /; hit/)
  assert.equal(origin.count('/a'), 2)
})
