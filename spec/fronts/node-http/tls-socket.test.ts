import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { installCache, uninstallCache } from '../../../lib/index.js'
import { tempDir } from '../../helpers/origin.js'

test("an https hit's socket answers the TLS API: encrypted, authorized, no peer certificate, no cipher", async (t) => {
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
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`
  const agent = new https.Agent({ ca: cert, keepAlive: true })
  installCache({ backend: 'memory', nodeHttp: true })
  t.after(async () => {
    uninstallCache()
    agent.destroy()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await cleanup()
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
  assert.equal(requests, 1)
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
