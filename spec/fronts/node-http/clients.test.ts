import assert from 'node:assert/strict'
import http from 'node:http'
import https from 'node:https'
import { after, before, describe, it } from 'node:test'
import { HttpProxyAgent } from 'http-proxy-agent'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { type Origin, startOrigin } from '../../helpers/origin.js'
import { type Answer, CLIENTS, failureOf } from './clients.js'

/**
 * `installCache({ nodeHttp: true })` with the clients built on node:http (issue 20): axios (its
 * default adapter), got, node-fetch 2 and 3, superagent, needle and `http.get`, each straight, through
 * a keep-alive agent and through a forward proxy reached with http-proxy-agent, against a loopback
 * origin. What each does without the cache is measured first in the same process and compared.
 */

interface Proxy {
  url: string
  seen: string[]
  close(): Promise<void>
}

/** A forward proxy on loopback that records the absolute URL of every request it relays. */
async function startProxy(): Promise<Proxy> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '')
    const target = new URL(req.url ?? '')
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function refusedUrl(): Promise<string> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

const AGENTS = ['no agent', 'a keep-alive agent', 'a proxy agent'] as const
type AgentName = (typeof AGENTS)[number]

describe('node:http clients through installCache({ nodeHttp: true })', () => {
  let origin: Origin
  let proxy: Proxy
  let refused: string
  const agents = new Map<AgentName, http.Agent | undefined>()
  const uncaught: unknown[] = []
  const onUncaught = (error: unknown) => uncaught.push(error)
  const originals = { httpRequest: http.request, httpGet: http.get, httpsRequest: https.request, httpsGet: https.get }
  /** What each client did without the cache: a GET (twice), a 404, a refused connection. */
  const baseline = new Map<string, { answers: Answer[]; notFound: Answer; refused: Awaited<ReturnType<typeof failureOf>> }>()

  before(async () => {
    process.on('uncaughtException', onUncaught)
    origin = await startOrigin({
      '*': (req, res) => {
        if (req.url?.endsWith('/404')) res.writeHead(404, { 'content-type': 'text/plain' }).end('not here')
        else res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-origin': 'yes' }).end(`hello ${req.url}`)
      },
    })
    proxy = await startProxy()
    refused = await refusedUrl()
    agents.set('no agent', undefined)
    agents.set('a keep-alive agent', new http.Agent({ keepAlive: true, maxSockets: 1 }))
    agents.set('a proxy agent', new HttpProxyAgent(proxy.url) as unknown as http.Agent)
    for (const [name, client] of Object.entries(CLIENTS)) {
      const path = `/uncached/${encodeURIComponent(name)}`
      const answers = [await client(origin.url + path), await client(origin.url + path)]
      baseline.set(name, {
        answers,
        notFound: await client(`${origin.url}/uncached/${encodeURIComponent(name)}/404`),
        refused: await failureOf(client(`${refused}/x`)),
      })
    }
    installCache({ backend: 'memory', nodeHttp: true })
  })

  after(async () => {
    uninstallCache()
    for (const agent of agents.values()) agent?.destroy()
    await proxy.close()
    await origin.close()
    process.off('uncaughtException', onUncaught)
  })

  for (const [name, client] of Object.entries(CLIENTS)) {
    describe(name, () => {
      it('without the cache, a repeated GET reaches the origin twice and carries no Cache-Status', () => {
        const { answers } = baseline.get(name) ?? assert.fail('no baseline')
        assert.equal(origin.count(`/uncached/${encodeURIComponent(name)}`), 2)
        for (const answer of answers) assert.equal(answer.header('cache-status'), undefined)
      })

      for (const agentName of AGENTS) {
        it(`through ${agentName}: a repeated GET is a hit with the body and headers it has without the cache`, async () => {
          const agent = agents.get(agentName)
          const path = `/cached/${encodeURIComponent(name)}/${agentName.replaceAll(' ', '-')}`
          const proxied = proxy.seen.length
          const first = await client(origin.url + path, agent)
          const proxiedFirst = proxy.seen.length - proxied
          const second = await client(origin.url + path, agent)
          const without = (baseline.get(name) ?? assert.fail('no baseline')).answers[0] as Answer
          for (const [label, answer] of [
            ['first', first],
            ['second', second],
          ] as const) {
            assert.equal(answer.status, 200, `${label} status`)
            assert.equal(answer.body, `hello ${path}`, `${label} body`)
            assert.equal(answer.header('x-origin'), without.header('x-origin'), `${label} x-origin`)
            assert.equal(answer.header('content-type'), without.header('content-type'), `${label} content-type`)
          }
          assert.match(first.header('cache-status') ?? '', /fwd=miss/)
          assert.match(second.header('cache-status') ?? '', /;\s*hit\b/)
          assert.equal(origin.count(path), 1, 'requests that reached the origin')
          if (agentName === 'a proxy agent') {
            assert.equal(proxiedFirst, 1, 'the miss went through the proxy')
            assert.equal(proxy.seen.length - proxied, 1, 'the proxy saw no request for the hit')
          }
        })
      }

      it('a 404 reaches it as without the cache', async () => {
        const without = (baseline.get(name) ?? assert.fail('no baseline')).notFound
        const answer = await client(`${origin.url}/cached/${encodeURIComponent(name)}/404`)
        assert.equal(answer.status, without.status)
        assert.equal(answer.body, without.body)
        assert.match(answer.header('cache-status') ?? '', /fwd=miss; fwd-status=404/)
      })

      it('a refused connection fails as without the cache, and the process lives', async () => {
        const without = (baseline.get(name) ?? assert.fail('no baseline')).refused
        assert.ok(without, 'without the cache the call failed')
        assert.deepEqual(await failureOf(client(`${refused}/y`)), without)
        assert.deepEqual(uncaught, [])
      })
    })
  }

  it('uninstallCache() restores http and https exactly, and requests go uncached', async () => {
    uninstallCache()
    assert.equal(http.request, originals.httpRequest)
    assert.equal(http.get, originals.httpGet)
    assert.equal(https.request, originals.httpsRequest)
    assert.equal(https.get, originals.httpsGet)
    const { request } = await import('node:http')
    assert.equal(request, originals.httpRequest, 'the ESM named export follows')
    const path = '/after-uninstall'
    for (let i = 0; i < 2; i++) assert.equal((await CLIENTS['http.get']?.(origin.url + path))?.header('cache-status'), undefined)
    assert.equal(origin.count(path), 2)
  })
})
