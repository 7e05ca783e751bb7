import { type CacheControlMode, type CachePlan, planRequest } from '../policy/actions.js'
import { servesLaterGets } from '../policy/write.js'
import type { CacheRequest } from '../request/cache-request.js'
import type { Engine, KeyedRequest } from './engine.js'

/**
 * rfc: RFC 9110 §9.3.3: a POST response with explicit freshness whose `Content-Location` is the request
 * URI is a representation of that resource, so it also answers later GETs of it (`servesLaterGets`).
 */

/** The GET a POST response also answers, keyed, if any (never throws: a key failure is reported). */
export function getFor(
  engine: Engine,
  mode: CacheControlMode,
  method: string,
  url: string,
  requestHeaders: Headers,
  responseHeaders: Headers,
): KeyedRequest | undefined {
  if (!servesLaterGets(method, url, responseHeaders, mode, engine.settings)) return undefined
  try {
    const baseKey = engine.keyFor('GET', url, requestHeaders, '')
    return { method: 'GET', url, headers: requestHeaders, bodyDigest: '', baseKey }
  } catch (error) {
    engine.report(error, 'key')
    return undefined
  }
}

/** How a GET with the POST's URL, headers and options would be cached; `undefined` when it would not. */
function planForGet(request: CacheRequest, settings: Engine['settings']): CachePlan | undefined {
  const facts = { method: 'GET', url: request.url, headers: request.headers, mode: request.mode, options: request.options }
  const plan = planRequest({ ...facts, unkeyableBody: false }, settings)
  return plan.kind === 'bypass' ? undefined : plan
}

/** A POST outside `allowableMethods` whose answer is also a GET's: the key and plan it is stored under as that GET. */
export function storedAsGet(
  engine: Engine,
  request: CacheRequest,
  responseHeaders: Headers,
): { keyed: KeyedRequest; plan: CachePlan } | undefined {
  const plan = planForGet(request, engine.settings)
  const keyed = plan && getFor(engine, plan, request.method, request.url, request.headers, responseHeaders)
  return keyed && plan ? { keyed, plan } : undefined
}
