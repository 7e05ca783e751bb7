import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { tempDir } from '../../helpers/origin.js'

/** An https origin on loopback with a self-signed certificate made for the test; closed after it. */
async function selfSignedOrigin(t: TestContext): Promise<{ url: string; cert: Buffer; requests: () => number }> {
  const { dir, cleanup } = await tempDir()
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
    ],
    { stdio: 'ignore' },
  )
  const cert = readFileSync(certFile)
  let requests = 0
  const server = https.createServer({ key: readFileSync(keyFile), cert }, (_req, res) => {
    requests++
    res.writeHead(200, { 'cache-control': 'max-age=60' }).end('secret')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await cleanup()
  })
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`, cert, requests: () => requests }
}

test("an https hit's socket answers the TLS API: encrypted, authorized, no peer certificate, no cipher", async (t) => {
  const { url, cert, requests } = await selfSignedOrigin(t)
  const agent = new https.Agent({ ca: cert, keepAlive: true })
  installCache({ backend: 'memory', nodeHttp: true })
  t.after(() => {
    uninstallCache()
    agent.destroy()
  })
  const get = () =>
    new Promise<{ res: IncomingMessage; socket: Socket; resSocket: Socket; body: string }>((resolve, reject) => {
      let socket: Socket | undefined
      const req = https.get(url, { agent }, (res) => {
        // Node detaches a response's socket once it ends: read it while the response is new.
        const resSocket = res.socket
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ res, socket: socket as Socket, resSocket, body }))
      })
      req.on('socket', (s) => (socket = s))
      req.on('error', reject)
    })

  const miss = await get()
  assert.match(String(miss.res.headers['cache-status']), /fwd=miss/)
  const real = miss.resSocket as TLSSocket
  assert.equal(real.authorized, true)
  assert.equal(real.getPeerCertificate().subject.CN, 'localhost')

  const hit = await get()
  assert.equal(hit.body, 'secret')
  assert.match(String(hit.res.headers['cache-status']), /; hit/)
  assert.equal(requests(), 1)
  const served = hit.resSocket as TLSSocket
  assert.equal(hit.socket, served, "the 'socket' event's argument is the response's socket")
  assert.equal(served.encrypted, true)
  assert.equal(served.authorized, true)
  assert.equal(served.authorizationError, null)
  assert.deepEqual(served.getPeerCertificate(), {})
  assert.deepEqual(served.getPeerCertificate(true), {})
  assert.equal(served.getPeerCertificate().subject?.CN, undefined)
  assert.equal(served.getCipher(), null)
  assert.equal(served.getProtocol(), null)
  assert.equal(served.getPeerX509Certificate(), undefined)
  assert.equal(served.isSessionReused(), false)
})

test('a response over TLS the caller did not verify (rejectUnauthorized: false) is not stored: a strict caller still gets the certificate error', async (t) => {
  const { url, requests } = await selfSignedOrigin(t)
  installCache({ backend: 'memory', nodeHttp: true })
  t.after(() => uninstallCache())
  const get = (options: https.RequestOptions) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      https
        .get(url, { agent: false, ...options }, (res) => {
          res.resume()
          res.on('end', () => resolve(res))
        })
        .on('error', reject)
    })
  const lax = await get({ rejectUnauthorized: false })
  assert.equal(lax.statusCode, 200)
  assert.match(String(lax.headers['cache-status']), /fwd=miss/)
  assert.doesNotMatch(String(lax.headers['cache-status']), /stored/)
  await assert.rejects(get({}), (error: NodeJS.ErrnoException) => error.code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
  assert.equal(requests(), 1)
})
