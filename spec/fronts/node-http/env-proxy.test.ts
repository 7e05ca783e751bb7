import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { ROOT } from '../../helpers/children.js'
import { startOrigin } from '../../helpers/origin.js'

/** Node's built-in proxy support from the environment (Node 22.21+ and 24.5+). */
const envProxy = execFileSync(process.execPath, ['--help'], { encoding: 'utf8' }).includes('--use-env-proxy')

test("under Node's env proxy (absolute-form request targets) node:http requests are cached: the miss goes through the proxy, the hit reaches neither", {
  skip: envProxy ? false : `Node ${process.version} has no NODE_USE_ENV_PROXY`,
}, async (t) => {
  const origin = await startOrigin({
    '/h': (_req, res) => {
      res.setHeader('cache-control', 'max-age=60')
      res.end('through the proxy')
    },
  })
  // A forward proxy (RFC 9112 §3.2.2): it reads the absolute-form target and asks the origin.
  const proxied: string[] = []
  const proxy = http.createServer((req, res) => {
    proxied.push(`${req.method} ${req.url}`)
    const target = new URL(req.url ?? '')
    const headers = { ...req.headers }
    delete headers['proxy-connection']
    http
      .get({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      .on('error', () => res.writeHead(502).end())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
    await origin.close()
  })
  const env = {
    ...process.env,
    NODE_USE_ENV_PROXY: '1',
    HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    NO_PROXY: '',
    no_proxy: '',
    NODE_DEBUG: 'fetch-http-cache',
  }
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'env-proxy-child.ts'), `${origin.url}/h`],
    { cwd: ROOT, env, timeout: 60_000 },
  )
  const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '')
  // Node wrote the target in absolute form: the request went to the proxy.
  assert.equal(seen[0].path, `${origin.url}/h`)
  assert.deepEqual(proxied, [`GET ${origin.url}/h`])
  assert.equal(seen[0].status, 200)
  assert.equal(seen[0].body, 'through the proxy')
  assert.match(String(seen[0].cacheStatus), /fwd=miss/)
  assert.equal(seen[1].body, 'through the proxy')
  assert.match(String(seen[1].cacheStatus), /; hit/)
  assert.equal(origin.count('/h'), 1)
  // The debug lines name the URL.
  assert.doesNotMatch(stderr, /unparsable URL/)
  assert.match(stderr, new RegExp(`GET ${origin.url}/h`))
})

test('an absolute-form request target naming another origin than the connection passes uncached', async (t) => {
  const origin = await startOrigin({
    '/x': (_req, res) => {
      res.setHeader('cache-control', 'max-age=60')
      res.end('x')
    },
  })
  installCache({ backend: 'memory', nodeHttp: true })
  t.after(async () => {
    uninstallCache()
    await origin.close()
  })
  const { port } = new URL(origin.url)
  for (let i = 0; i < 2; i++) {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port, path: 'http://elsewhere.invalid/x' }, resolve).on('error', reject),
    )
    res.resume()
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['cache-status']), /fwd=bypass/)
  }
  assert.deepEqual(
    origin.requests.map((r) => r.path),
    ['http://elsewhere.invalid/x', 'http://elsewhere.invalid/x'],
  )
})
