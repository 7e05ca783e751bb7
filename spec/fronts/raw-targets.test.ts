import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import { getGlobalDispatcher } from 'undici'
import { installCache, uninstallCache } from '../../lib/index.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * Clients that send the request target byte for byte (node:http, undici's dispatch with origin and
 * path): a target its URL would resolve (dot-segments, a backslash, a fragment) reaches the origin as
 * written, so it is never answered with the entry of the URL it parses to, nor stored as that URL.
 */

const TARGETS: [written: string, resolved: string][] = [
  ['/raw/admin/../public', '/raw/public'],
  ['/raw/admin/%2e%2E/public', '/raw/public'],
  ['/raw/./public', '/raw/public'],
  ['/raw/a\\b', '/raw/a/b'],
  ['/raw/x#fragment', '/raw/x'],
]

/** A target sent as written, through each client that does so. */
const CLIENTS: Record<string, (origin: Origin, path: string) => Promise<string>> = {
  'node:http': (origin, path) =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(origin.url)
      http
        .get({ host: hostname, port, path }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve(body))
        })
        .on('error', reject)
    }),
  'undici dispatch': async (origin, path) =>
    (await getGlobalDispatcher().request({ origin: origin.url, path, method: 'GET' })).body.text(),
}

describe('request targets sent as written, which their URL would resolve', () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin({ '*': (req, res) => void res.end(`answer for ${req.url}`) })
    installCache({ backend: 'memory', nodeHttp: true })
  })
  after(async () => {
    uninstallCache()
    await origin.close()
  })

  for (const [client, get] of Object.entries(CLIENTS)) {
    for (const [written, resolved] of TARGETS) {
      it(`${client}: ${written} gets the origin's answer to it, never the entry of ${resolved}`, async () => {
        const prefix = `/${client.replace(/\W/g, '-')}`
        await get(origin, prefix + resolved) // stored
        const before = origin.count()
        assert.equal(await get(origin, prefix + written), `answer for ${prefix}${written}`)
        assert.equal(
          await get(origin, prefix + written),
          `answer for ${prefix}${written}`,
          'not stored as the resolved URL either',
        )
        assert.equal(origin.count() - before, 2)
        assert.equal(await get(origin, prefix + resolved), `answer for ${prefix}${resolved}`)
      })
    }
  }
})
