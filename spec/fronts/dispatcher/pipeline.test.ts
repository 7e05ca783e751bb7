import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { getCache, installCache, uninstallCache } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'
import { UNDICI_VERSIONS } from '../../helpers/undici-versions.js'

// pipeline() always streams its request body, even for a GET: the cache cannot key it and stays out
// (README, "Which clients are cached"). What passes must be what the origin said.
for (const [name, undici] of UNDICI_VERSIONS) {
  describe(`undici.pipeline() passes through uncached (${name})`, () => {
    it('GET and POST reach the origin every time, with its status and body, and nothing is stored', async (t) => {
      const origin = await startOrigin({
        '/p': (req, res, body) => {
          res.writeHead(req.method === 'POST' ? 201 : 200, { 'cache-control': 'max-age=60' })
          res.end(`${req.method} ${body}`)
        },
      })
      installCache({ backend: 'memory' })
      t.after(async () => {
        uninstallCache()
        await origin.close()
      })
      const send = async (method: string, upload: string[]) => {
        let status = 0
        let cacheStatus: unknown
        const duplex = undici.pipeline(`${origin.url}/p`, { method }, ({ statusCode, headers, body }) => {
          status = statusCode
          cacheStatus = headers['cache-status']
          return body
        })
        Readable.from(upload).pipe(duplex)
        let text = ''
        for await (const chunk of duplex) text += chunk
        return { status, cacheStatus, text }
      }
      for (let i = 0; i < 2; i++) {
        const get = await send('GET', [])
        assert.deepEqual({ status: get.status, text: get.text }, { status: 200, text: 'GET ' })
        assert.match(String(get.cacheStatus), /fwd=bypass/)
      }
      const post = await send('POST', ['up', 'load'])
      assert.deepEqual({ status: post.status, text: post.text }, { status: 201, text: 'POST upload' })
      assert.equal(origin.count('/p'), 3)
      assert.equal(await getCache()?.count(), 0)
    })
  })
}
