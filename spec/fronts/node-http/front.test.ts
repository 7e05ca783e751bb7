import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import {
  cacheInfo,
  disabled,
  enabled,
  installCache,
  isFetchCacheError,
  OPTIONS_HEADER,
  uninstallCache,
} from '../../../lib/index.js'
import { ROOT } from '../../helpers/children.js'

const execNode = promisify(execFile)

/**
 * What the node:http front does beyond a plain GET (issue 20): hits open no socket, revalidation on
 * the caller's own connection, what passes untouched, and failures that behave as without the cache
 * (measured inside `disabled()`, where the same patched `http.request` passes straight through).
 */

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

describe('the node:http front', () => {
  let server: http.Server
  let base: string
  let connections = 0
  const seen: Seen[] = []
  const count = (url: string) => seen.filter((s) => s.url === url).length

  before(async () => {
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() })
      const url = req.url ?? '/'
      if (url.startsWith('/etag')) {
        if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304, { etag: '"v1"' }).end()
        return res.writeHead(200, { etag: '"v1"', 'cache-control': 'no-cache', 'content-type': 'text/plain' }).end('tagged')
      }
      if (url.startsWith('/slow')) return void setTimeout(() => res.end('late'), 2000).unref()
      if (url.startsWith('/reset')) {
        res.writeHead(200, { 'content-length': '1000' }).write('partial')
        return void setTimeout(() => res.socket?.destroy(), 20)
      }
      res
        .writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
        .end(`hello ${url} ${Buffer.concat(chunks).toString()}`)
    })
    server.on('connection', () => connections++)
    server.on('upgrade', (req, socket: Socket) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' })
      socket.end('HTTP/1.1 101 Switching Protocols\r\nupgrade: test\r\nconnection: upgrade\r\n\r\n')
    })
    server.on('connect', (req, socket: Socket) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' })
      socket.end('HTTP/1.1 200 Connection Established\r\n\r\n')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    installCache({ backend: 'memory', cacheControl: true, nodeHttp: true })
  })

  after(async () => {
    uninstallCache()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  /** One request and what the caller saw, in order: events, the answer, its body. */
  function run(
    url: string,
    options: http.RequestOptions = {},
    send: (req: http.ClientRequest) => void = (req) => req.end(),
  ): Promise<{ events: string[]; res?: IncomingMessage; body?: string }> {
    return new Promise((resolve) => {
      const events: string[] = []
      let res: IncomingMessage | undefined
      let body = ''
      const req = http.request(url, options)
      req.on('socket', () => events.push('socket'))
      req.on('timeout', () => {
        events.push('timeout')
        req.destroy()
      })
      req.on('error', (error: Error & { code?: string }) => events.push(`error ${error.name} ${error.code ?? ''}`))
      req.on('response', (answer) => {
        res = answer
        events.push(`response ${answer.statusCode}`)
        answer.on('data', (chunk: Buffer) => {
          body += chunk
        })
        answer.on('aborted', () => events.push('aborted'))
        answer.on('error', (error: Error & { code?: string }) => events.push(`response error ${error.code ?? error.name}`))
        answer.on('end', () => events.push('end'))
      })
      req.on('close', () => {
        events.push('close')
        // The response's own events may follow the request's close: let them land.
        setTimeout(() => resolve({ events, ...(res ? { res, body } : {}) }), 50)
      })
      send(req)
    })
  }

  it('a hit opens no connection and answers with an IncomingMessage that cacheInfo() reads', async () => {
    await run(`${base}/hit`)
    const before = connections
    const { res, body, events } = await run(`${base}/hit`)
    assert.equal(connections, before, 'connections opened by the hit')
    assert.equal(count('/hit'), 1)
    assert.equal(body, 'hello /hit ')
    assert.equal(res?.statusCode, 200)
    assert.equal(res?.statusMessage, 'OK')
    assert.equal(res?.headers['content-type'], 'text/plain')
    assert.ok(res?.rawHeaders.includes('content-type'))
    assert.match(String(res?.headers['cache-status']), /; hit/)
    assert.equal(res?.headers.connection, undefined, 'no field the origin did not send')
    assert.equal(res && cacheInfo(res)?.fromCache, true)
    assert.deepEqual(events, ['socket', 'response 200', 'end', 'close'])
  })

  it('revalidates on the caller’s own keep-alive connection: a 304 reaches it as the stored 200', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const first = await run(`${base}/etag`, { agent })
      const second = await run(`${base}/etag`, { agent })
      assert.equal(first.body, 'tagged')
      assert.equal(second.body, 'tagged')
      assert.equal(second.res?.statusCode, 200)
      assert.equal(second.res && cacheInfo(second.res)?.revalidated, true)
      assert.deepEqual(
        seen.filter((s) => s.url === '/etag').map((s) => s.headers['if-none-match']),
        [undefined, '"v1"'],
        'the condition the cache added reached the origin',
      )
      const own = await run(`${base}/etag`, { agent, headers: { 'if-none-match': '"v1"' } })
      assert.equal(own.res?.statusCode, 304, 'the caller’s own conditional request gets its 304')
    } finally {
      agent.destroy()
    }
  })

  it('a request body reaches the origin, and a successful POST invalidates the stored GET', async () => {
    await run(`${base}/posted`)
    const posted = await run(`${base}/posted`, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (req) =>
      req.end('data'),
    )
    assert.equal(posted.body, 'hello /posted data')
    await run(`${base}/posted`)
    assert.equal(seen.filter((s) => s.url === '/posted' && s.method === 'GET').length, 2)
  })

  it('a streamed upload passes untouched', async () => {
    const { body } = await run(`${base}/upload`, { method: 'PUT' }, (req) => {
      req.write('a')
      setTimeout(() => req.end('b'), 10)
    })
    assert.equal(body, 'hello /upload ab')
  })

  it('Expect: 100-continue passes untouched: the caller gets continue, then sends its body', async () => {
    let continued = false
    const { body } = await run(`${base}/continue`, { method: 'POST', headers: { expect: '100-continue' } }, (req) => {
      req.on('continue', () => {
        continued = true
        req.end('late body')
      })
      req.flushHeaders()
    })
    assert.equal(continued, true)
    assert.equal(body, 'hello /continue late body')
  })

  it('an upgrade and a CONNECT pass untouched', async () => {
    const upgraded = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/ws`, { headers: { connection: 'upgrade', upgrade: 'test' } })
      req.on('upgrade', (res, socket) => {
        socket.destroy()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(upgraded, 101)
    const connected = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(base)
      const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'example.test:443' })
      req.on('connect', (res, socket) => {
        socket.destroy()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(connected, 200)
    assert.deepEqual(
      seen.filter((s) => s.url === '/ws' || s.method === 'CONNECT').map((s) => s.method),
      ['GET', 'CONNECT'],
    )
  })

  const destroyLater = (req: http.ClientRequest) => {
    req.end()
    setTimeout(() => req.destroy(), 50)
  }
  const FAILURES: [string, string, () => http.RequestOptions, ((req: http.ClientRequest) => void) | undefined][] = [
    ['a timeout', '/slow/timeout', () => ({ timeout: 50 }), undefined],
    ['destroy() before the answer', '/slow/destroy', () => ({}), destroyLater],
    ['an AbortSignal', '/slow/signal', () => ({ signal: AbortSignal.timeout(50) }), undefined],
    ['a refused connection', 'refused', () => ({}), undefined],
    ['a reset mid-body', '/reset', () => ({}), undefined],
  ]
  for (const [name, url, options, send] of FAILURES) {
    it(`${name} behaves as without the cache`, async () => {
      const target = url === 'refused' ? 'http://127.0.0.1:1/refused' : base + url
      const without = await disabled(() => run(`${target}?without`, options(), send))
      const withCache = await run(`${target}?with`, options(), send)
      assert.deepEqual(withCache.events, without.events)
    })
  }

  it('identical requests whose answers are cut short mid-body each see theirs fail as without the cache, never end shorter', async () => {
    const without = await disabled(() => run(`${base}/reset?alone`))
    assert.ok(without.events.includes('aborted') && !without.events.includes('end'), String(without.events))
    const answers = await Promise.all([run(`${base}/reset?twice`), run(`${base}/reset?twice`)])
    assert.equal(count('/reset?twice'), 2, 'never coalesced: each on its own connection')
    for (const { events, body } of answers) {
      assert.equal(body, 'partial')
      assert.ok(events.includes('aborted'), String(events))
      assert.ok(!events.includes('end'), `a body cut short ended as complete: ${events}`)
    }
  })

  it('disabled() bypasses it and enabled(fn, options) uses the block’s own cache', async () => {
    await run(`${base}/scoped`)
    const off = await disabled(() => run(`${base}/scoped`))
    assert.equal(off.res?.headers['cache-status'], undefined)
    const inBlock = await enabled(async () => [await run(`${base}/block`), await run(`${base}/block`)], { backend: 'memory' })
    assert.match(String(inBlock[1]?.res?.headers['cache-status']), /; hit/)
    const outside = await run(`${base}/block`)
    assert.match(String(outside.res?.headers['cache-status']), /fwd=miss/, 'the installed cache never saw the block’s entry')
  })

  it(`per-request options travel in the ${OPTIONS_HEADER} request header, which never reaches the origin`, async () => {
    const options = { headers: { [OPTIONS_HEADER]: JSON.stringify({ onlyIfCached: true }) } }
    const miss = await run(`${base}/only-cached`, options)
    assert.equal(miss.res?.statusCode, 504)
    assert.equal(count('/only-cached'), 0)
    await run(`${base}/refreshed`)
    await run(`${base}/refreshed`, { headers: { [OPTIONS_HEADER]: '{"forceRefresh":true}' } })
    assert.equal(count('/refreshed'), 2)
    assert.ok(seen.every((s) => s.headers[OPTIONS_HEADER] === undefined))
  })

  it(`the ${OPTIONS_HEADER} header never reaches the origin on requests that pass untouched`, async () => {
    const options = '{"expireAfter":60}'
    const expect = await run(
      `${base}/untouched-options`,
      { method: 'POST', headers: { expect: '100-continue', [OPTIONS_HEADER]: options } },
      (req) => req.on('continue', () => req.end('body')),
    )
    assert.equal(expect.body, 'hello /untouched-options body')
    const later = await run(`${base}/untouched-options`, { method: 'PUT' }, (req) => {
      req.setHeader('expect', '100-continue')
      req.setHeader(OPTIONS_HEADER, options)
      req.on('continue', () => req.end('later'))
      req.flushHeaders()
    })
    assert.equal(later.body, 'hello /untouched-options later')
    const { host } = new URL(base)
    const raw = await run(`${base}/untouched-options`, { headers: ['Host', host, 'Fetch-Http-Cache-Options', options] })
    assert.equal(raw.res?.statusCode, 200)
    const sent = seen.filter((s) => s.url === '/untouched-options')
    assert.deepEqual(
      sent.map((s) => [s.method, s.headers.expect, s.headers[OPTIONS_HEADER]]),
      [
        ['POST', '100-continue', undefined],
        ['PUT', '100-continue', undefined],
        ['GET', undefined, undefined],
      ],
    )
  })

  it('headersDistinct and trailersDistinct match headers and trailers on a miss, a hit and a 304 turned into the stored answer', async () => {
    const distinct = (res: IncomingMessage | undefined) => {
      assert.ok(res)
      const expected: Record<string, string[]> = {}
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = (res.rawHeaders[i] as string).toLowerCase()
        expected[name] = [...(expected[name] ?? []), res.rawHeaders[i + 1] as string]
      }
      assert.deepEqual({ ...res.headersDistinct }, expected)
      assert.deepEqual({ ...res.trailersDistinct }, {})
      assert.deepEqual(res.headersDistinct['cache-status'], [res.headers['cache-status']])
      return res.headersDistinct['content-type']
    }
    assert.deepEqual(distinct((await run(`${base}/distinct`)).res), ['text/plain'])
    assert.deepEqual(distinct((await run(`${base}/distinct`)).res), ['text/plain'])
    await run(`${base}/etag-distinct`)
    const revalidated = await run(`${base}/etag-distinct`)
    assert.equal(revalidated.res && cacheInfo(revalidated.res)?.revalidated, true)
    assert.deepEqual(distinct(revalidated.res), ['text/plain'])
  })

  for (const [which, name] of [
    ['miss', 'a miss'],
    ['hit', 'a hit'],
    ['revalidated', 'a 304 turned into the stored answer'],
  ] as const) {
    it(`what a response callback throws on ${name} is an uncaught exception, as without the cache`, async () => {
      // In a process of its own: the test runner takes an uncaught exception for its own failure.
      const child = (mode: string) =>
        execNode(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'throw-child.ts'), mode, which], { cwd: ROOT })
      const without = await child('nocache')
      assert.equal(without.stdout, `uncaughtException thrown on a ${which}\n`)
      assert.deepEqual(await child('cache'), without)
    })
  }

  it('a bad options header is the request’s error, naming the option', async () => {
    const error = await new Promise<unknown>((resolve) => {
      const req = http.get(`${base}/bad`, { headers: { [OPTIONS_HEADER]: '{"expireAfter":"soon"}' } })
      req.on('error', resolve)
    })
    assert.ok(isFetchCacheError(error))
    assert.match(String(error), /cacheOptions\.expireAfter/)
    assert.equal(count('/bad'), 0)
  })
})
