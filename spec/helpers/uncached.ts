import http, { type IncomingMessage } from 'node:http'
import { Agent, request } from 'undici'
import type { FrontKind } from './fronts.js'

/**
 * The same request through a front's client without the cache, body read: what a test compares the
 * cached front's answer with. Returns the client's own response object (a `Response`, undici's
 * `ResponseData`, an `IncomingMessage`), as `FrontResponse.raw` holds it.
 */
export async function uncachedRaw(kind: FrontKind['name'], url: string, method = 'GET'): Promise<unknown> {
  const body = method === 'POST' ? 'x' : undefined
  if (kind === 'fetch') {
    const response = await fetch(url, { method, ...(body ? { body } : {}) })
    await response.text()
    return response
  }
  if (kind === 'dispatcher') {
    const agent = new Agent()
    try {
      const response = await request(url, { dispatcher: agent, method: method as 'GET', ...(body ? { body } : {}) })
      await response.body.text()
      return response
    } finally {
      await agent.close()
    }
  }
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      res.resume()
      res.once('end', () => resolve(res))
    })
    req.once('error', reject)
    req.end(body)
  })
}
