import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import axios from 'axios'
import got from 'got'
import { disabled, installCache, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'
import { requestEvents } from '../../helpers/request-events.js'
import { failureOf } from './clients.js'

/**
 * A node:http caller that ends its own request on its way to the origin (`destroy()`, `abort()`, an
 * AbortSignal, a timeout, a destroy in its socket's `error` as axios does) while the cache holds an
 * entry it could answer a failure with (stale-if-error, a must-revalidate entry's 504): the caller
 * gets what it gets without the cache, never the stored or generated answer.
 */

const eventsOf = (req: http.ClientRequest) => requestEvents(req)

/** Ways a caller ends its request once the origin has it. */
const ENDINGS: [
  string,
  (arrived: Promise<void>) => { options: http.RequestOptions; onRequest(req: http.ClientRequest): void },
][] = [
  ['destroy()', (arrived) => ({ options: {}, onRequest: (req) => void arrived.then(() => req.destroy()) })],
  ['abort()', (arrived) => ({ options: {}, onRequest: (req) => void arrived.then(() => req.abort()) })],
  [
    'an AbortSignal',
    (arrived) => {
      const controller = new AbortController()
      void arrived.then(() => controller.abort())
      return { options: { signal: controller.signal }, onRequest: () => {} }
    },
  ],
  [
    'its timeout',
    () => ({
      options: { timeout: 50 },
      onRequest: (req) => req.on('timeout', () => req.destroy()),
    }),
  ],
]

describe('a node:http caller’s own abort while the cache could cover a failure', () => {
  let origin: Origin
  /** Requests the origin holds unanswered, by path, and who waits for one to arrive. */
  const held: http.ServerResponse[] = []
  const waiting = new Map<string, () => void>()

  before(async () => {
    origin = await startOrigin({
      '*': (req, res) => {
        const path = req.url ?? ''
        const mustRevalidate = path.includes('must-revalidate')
        if (req.headers['if-none-match'] || path.includes('without')) {
          // Revalidations (and the uncached baseline) are never answered: the caller ends them.
          held.push(res)
          waiting.get(new URL(path, 'http://x').pathname)?.()
          return
        }
        res
          .writeHead(200, { etag: '"x"', 'cache-control': mustRevalidate ? 'max-age=0, must-revalidate' : 'max-age=0' })
          .end('stored')
      },
    })
    installCache({ backend: 'memory', nodeHttp: true, cacheControl: true, staleIfError: true })
  })

  after(async () => {
    uninstallCache()
    for (const res of held) res.destroy()
    await origin.close()
  })

  /** One request for `path`, ended by the caller once the origin has it. */
  function endedRequest(path: string, ending: (typeof ENDINGS)[number][1]): Promise<string[]> {
    const arrived = new Promise<void>((resolve) => waiting.set(new URL(path, 'http://x').pathname, resolve))
    const { options, onRequest } = ending(arrived)
    const req = http.get(origin.url + path, options)
    const events = eventsOf(req)
    onRequest(req)
    return events
  }

  for (const entry of ['a stale entry (staleIfError)', 'a must-revalidate entry'] as const) {
    for (const [name, ending] of ENDINGS) {
      it(`${name} fails the request as without the cache, with ${entry}`, async () => {
        const slug = `${entry.includes('must') ? 'must-revalidate' : 'stale'}/${name.replaceAll(' ', '-')}`
        const without = await disabled(() => endedRequest(`/${slug}/without`, ending))
        assert.ok(
          without.some((event) => event.startsWith('error ')),
          without.join(', '),
        )
        const path = `/${slug}/with`
        assert.deepEqual(await eventsOf(http.get(origin.url + path)), ['response 200', 'close'])
        const withCache = await endedRequest(path, ending)
        assert.deepEqual(withCache, without)
        assert.equal(origin.count(path), 2, 'the revalidation reached the origin')
      })
    }
  }

  it('got’s request timeout rejects with ETIMEDOUT as without the cache, not the stale entry', async () => {
    const call = (path: string) => got(origin.url + path, { timeout: { request: 50 }, retry: { limit: 0 } })
    const without = await disabled(() => failureOf(call('/got/without')))
    assert.equal(without?.code, 'ETIMEDOUT')
    await call('/got/with')
    assert.deepEqual(await failureOf(call('/got/with')), without)
  })
})

describe('a node:http caller that destroys its request in its socket’s error, as axios does', () => {
  /** An origin that stored `path`, then went away: its port refuses connections. */
  async function storedThenGone(path: string, cacheControl: string): Promise<string> {
    const origin = await startOrigin({
      '*': (_req, res) =>
        void res
          .writeHead(200, { 'content-type': 'application/json', etag: '"x"', 'cache-control': cacheControl })
          .end('{"ok":true}'),
    })
    try {
      // Read to its end: a body read to its end is stored.
      await new Promise((resolve, reject) => {
        http.get(origin.url + path, (res) => res.resume().on('end', resolve)).on('error', reject)
      })
    } finally {
      await origin.close()
    }
    return origin.url + path
  }

  /**
   * A GET written the way axios's adapter is: a socket error destroys the request; an answer on a
   * destroyed request is dropped. A fresh connection each time: a kept-alive one the origin closed
   * fails as a reset, not a refusal, and Node 22.19 reports that without a socket error.
   */
  function axiosStyle(url: string): Promise<string> {
    return new Promise((resolve) => {
      const req = http.get(url, { agent: false }, (res) => {
        if (req.destroyed) return
        res.resume()
        res.on('end', () => resolve(`response ${res.statusCode}`))
      })
      req.on('socket', (socket) => socket.on('error', (error) => req.destroy(error)))
      req.on('error', (error: Error & { code?: string }) => resolve(`error ${error.code}`))
    })
  }

  before(() => {
    installCache({ backend: 'memory', nodeHttp: true, cacheControl: true, staleIfError: true })
  })

  after(() => {
    uninstallCache()
  })

  for (const [entry, cacheControl] of [
    ['a stale entry (staleIfError)', 'max-age=0'],
    ['a must-revalidate entry', 'max-age=0, must-revalidate'],
  ] as const) {
    it(`a refused connection reaches the caller as its error, with ${entry}`, async () => {
      const url = await storedThenGone(`/axios-style/${cacheControl.length}`, cacheControl)
      const without = await disabled(() => axiosStyle(`${url}?without`))
      assert.equal(without, 'error ECONNREFUSED')
      assert.equal(await axiosStyle(url), without)
    })

    it(`a refused connection is answered from the cache for a caller that does not destroy its request, with ${entry}`, async () => {
      const url = await storedThenGone(`/plain/${cacheControl.length}`, cacheControl)
      const answer = await new Promise<string>((resolve, reject) => {
        http.get(url, { agent: false }, (res) => resolve(`response ${res.resume().statusCode}`)).on('error', reject)
      })
      assert.equal(answer, cacheControl.includes('must-revalidate') ? 'response 504' : 'response 200')
    })

    it(`axios with maxRedirects: 0 settles with ECONNREFUSED, with ${entry}`, async () => {
      const url = await storedThenGone(`/axios/${cacheControl.length}`, cacheControl)
      const call = (target: string) =>
        failureOf(axios.get(target, { maxRedirects: 0, validateStatus: () => true, httpAgent: new http.Agent() }))
      const without = await disabled(() => call(`${url}?without`))
      assert.equal(without?.code, 'ECONNREFUSED')
      assert.deepEqual(await call(url), without)
    })
  }
})
