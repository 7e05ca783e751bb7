import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import { disabled, installCache, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'
import { requestEvents } from '../../helpers/request-events.js'

/**
 * node:http requests the caller ends before they could reach the origin (an AbortSignal already
 * aborted, `abort()` or `destroy()` at once), and requests whose header fields Node renders at once
 * (`headers` as a raw array): each emits, with the cache, what it emits without it (measured inside
 * `disabled()`, where the same patched `http.request` passes straight through).
 */

const eventsOf = (req: http.ClientRequest) => requestEvents(req, { cacheStatus: true })

/** Moments at which a caller ends its request: at once after `http.get()`, in a microtask, on the next tick. */
const MOMENTS: [string, (end: () => void) => void][] = [
  ['synchronously', (end) => end()],
  ['in a microtask', (end) => queueMicrotask(end)],
  ['on the next tick', (end) => process.nextTick(end)],
]
const ENDS: [string, (req: http.ClientRequest) => void][] = [
  ['abort()', (req) => req.abort()],
  ['destroy()', (req) => req.destroy()],
]

describe('node:http requests ended early or with raw header fields', () => {
  let origin: Origin

  before(async () => {
    origin = await startOrigin({
      '*': (req, res) => {
        res
          .writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
          .end(`hello ${req.url} ${req.headers.authorization ?? 'anonymous'}`)
      },
    })
    installCache({ backend: 'memory', nodeHttp: true })
  })

  after(async () => {
    uninstallCache()
    await origin.close()
  })

  /** Stores `path` and checks that the next request for it is a hit (no origin request, Cache-Status hit). */
  async function fill(path: string, headers: http.OutgoingHttpHeaders = {}): Promise<void> {
    await eventsOf(http.get(origin.url + path, { headers }))
    const before = origin.count(path)
    const events = await eventsOf(http.get(origin.url + path, { headers }))
    assert.equal(origin.count(path), before, 'the second request reached the origin')
    assert.match(events[0] ?? '', /^response 200 .*; hit/)
  }

  it('an AbortSignal already aborted fails a hit with AbortError then close, as without the cache', async () => {
    await fill('/pre-aborted')
    const without = await disabled(() => eventsOf(http.get(`${origin.url}/pre-aborted?without`, { signal: AbortSignal.abort() })))
    assert.deepEqual(without, ['error AbortError ABORT_ERR', 'close'])
    const hits = origin.count('/pre-aborted')
    const withCache = await eventsOf(http.get(`${origin.url}/pre-aborted`, { signal: AbortSignal.abort() }))
    assert.deepEqual(withCache, without)
    assert.equal(origin.count('/pre-aborted'), hits)
  })

  it('an AbortSignal already aborted fails a miss with AbortError then close, as without the cache', async () => {
    const without = await disabled(() =>
      eventsOf(http.get(`${origin.url}/pre-aborted-miss?without`, { signal: AbortSignal.abort() })),
    )
    const withCache = await eventsOf(http.get(`${origin.url}/pre-aborted-miss`, { signal: AbortSignal.abort() }))
    assert.deepEqual(withCache, without)
  })

  for (const state of ['miss', 'hit'] as const) {
    for (const [endName, end] of ENDS) {
      for (const [moment, at] of MOMENTS) {
        it(`${endName} ${moment} after http.get() on a ${state} emits close (and abort) as without the cache`, async () => {
          const path = `/ended/${state}/${endName}/${moment.replaceAll(' ', '-')}`
          if (state === 'hit') await fill(path)
          const without = await disabled(() => {
            const req = http.get(`${origin.url}${path}?without`)
            const events = eventsOf(req)
            at(() => end(req))
            return events
          })
          assert.ok(without.includes('close'), String(without))
          const req = http.get(origin.url + path)
          const events = eventsOf(req)
          at(() => end(req))
          assert.deepEqual(await events, without)
        })
      }
    }
  }

  for (const [endName, end] of ENDS) {
    it(`${endName} before end() emits what it emits without the cache, and sends nothing`, async () => {
      const path = `/before-end/${endName}`
      const without = await disabled(() => {
        const req = http.request(`${origin.url}${path}?without`)
        const events = eventsOf(req)
        end(req)
        req.end()
        return events
      })
      const req = http.request(origin.url + path)
      const events = eventsOf(req)
      end(req)
      req.end()
      assert.deepEqual(await events, without)
      assert.equal(origin.count(path), 0)
    })
  }

  /** Callers that end the request only once it has its socket, as Node gives one at once. */
  const ON_SOCKET: [string, string, (req: http.ClientRequest) => void][] = [
    ['GET', "ends on 'socket'", (req) => req.on('socket', () => req.end())],
    [
      'GET',
      'ends once its socket connected',
      (req) => req.on('socket', (socket) => (socket.connecting ? socket.once('connect', () => req.end()) : req.end())),
    ],
    ['POST', "ends with its body on 'socket'", (req) => req.on('socket', () => req.end('payload'))],
  ]
  for (const [method, name, send] of ON_SOCKET) {
    it(`a ${method} that ${name} is answered as without the cache, by the origin`, async () => {
      const path = `/on-socket/${method}/${name.replaceAll(' ', '-')}`
      await fill(path)
      const without = await disabled(() => {
        const req = http.request(`${origin.url}${path}?without`, { method })
        const events = eventsOf(req)
        send(req)
        return events
      })
      assert.deepEqual(without, ['response 200 -', 'close'])
      const before = origin.count(path)
      const req = http.request(origin.url + path, { method })
      const events = eventsOf(req)
      send(req)
      assert.deepEqual(await events, without, 'a request given its socket passes uncached')
      assert.equal(origin.count(path), before + 1)
    })
  }

  it('a request that listens for its socket and ends at once is still a hit', async () => {
    await fill('/socket-listener')
    const before = origin.count('/socket-listener')
    const req = http.request(`${origin.url}/socket-listener`)
    const events = eventsOf(req)
    req.on('socket', () => {})
    req.end()
    assert.match((await events)[0] ?? '', /^response 200 .*; hit/)
    assert.equal(origin.count('/socket-listener'), before)
  })

  it('header fields given as a raw array pass untouched: the request is sent as without the cache', async () => {
    const headers = (path: string) => ['Host', new URL(origin.url).host, 'Accept', 'text/plain', 'X-Path', path]
    const without = await disabled(() =>
      eventsOf(http.get({ ...hostPort(origin.url), path: '/raw?without', headers: headers('without') })),
    )
    assert.deepEqual(without, ['response 200 -', 'close'])
    for (let i = 0; i < 2; i++) {
      const events = await eventsOf(http.get({ ...hostPort(origin.url), path: '/raw', headers: headers('with') }))
      assert.deepEqual(events, without)
    }
    assert.equal(origin.count('/raw'), 2, 'each request reached the origin')
    assert.deepEqual(
      origin.requests.filter((r) => r.path === '/raw').map((r) => [r.headers.accept, r.headers['x-path']]),
      [
        ['text/plain', 'with'],
        ['text/plain', 'with'],
      ],
    )
  })

  it('header fields given as a raw array with Authorization are never served an entry stored for another caller', async () => {
    await fill('/private', { authorization: 'Bearer alice' })
    await fill('/private')
    const before = origin.count('/private')
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        {
          ...hostPort(origin.url),
          path: '/private',
          headers: ['Host', new URL(origin.url).host, 'Authorization', 'Bearer mallory'],
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            text += chunk
          })
          res.on('end', () => resolve(`${res.statusCode} ${res.headers['cache-status'] ?? '-'} ${text}`))
        },
      )
      req.on('error', reject)
    })
    assert.equal(body, '200 - hello /private Bearer mallory')
    assert.equal(origin.count('/private'), before + 1)
    assert.equal(origin.requests.at(-1)?.headers.authorization, 'Bearer mallory')
  })
})

function hostPort(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url)
  return { host: hostname, port: Number(port) }
}
