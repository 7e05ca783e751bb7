import { isBodiless } from '../http/bodiless.js'
import { cacheStatus, type Forwarded } from '../http/cache-status.js'
import { canDecode, decode } from '../http/content-coding.js'
import { type CacheInfo, infoFor, keyedInfo } from '../observe/cache-info.js'
import { storableHeaders } from '../policy/stored-headers.js'
import { decideWrite, keepsSetCookie } from '../policy/write.js'
import { recordBody } from './body.js'
import type { Call } from './call.js'
import { debug } from './engine.js'
import { passesFilter } from './filter.js'
import type { OriginResponse, Outcome } from './outcome.js'
import { getFor } from './post-as-get.js'
import { markRecording } from './recording.js'

/**
 * The tail of a miss (lib/README.md, "The exchange"): the origin's answer passed on to the caller, its
 * body recorded on the way and stored once it has ended, when the write decision allows.
 */
export function storeAndPass(
  call: Call,
  response: OriginResponse,
  requestTime: number,
  responseTime: number,
  fwd: Forwarded | 'method',
): Outcome {
  const { engine, keyed, plan } = call
  const settings = engine.settings
  const decision = decideWrite(
    plan,
    { status: response.status, headers: response.headers, requestTime, responseTime, redirected: response.redirected },
    settings,
    responseTime,
  )
  let store = decision.store
  let reason = decision.store ? 'storing' : decision.reason
  // A status a fetch Response cannot carry (fetch passes 600 or 999 on) could not be served to fetch.
  if (store && (response.status < 200 || response.status > 599)) {
    store = false
    reason = 'status outside 200-599'
  }
  if (store && engine.closed) {
    store = false
    reason = 'the cache is closed'
  }
  if (store && response.unverified) {
    store = false
    reason = 'TLS certificate not verified'
  }
  if (store && Number(response.headers.get('content-length') ?? 0) > settings.maxEntrySize) {
    store = false
    reason = 'larger than maxEntrySize'
  }
  debug('%s %s: origin %d, %s', keyed.method, engine.redact(keyed.url), response.status, reason)
  // The fields to store, read once: they give the key (its `Vary`) and the entry.
  const headers = store ? storableHeaders(response.headers, plan.cacheControl, keepsSetCookie(plan, settings)) : undefined
  // The key is known with the header fields: the caller sees it before the body is stored.
  const cacheKey = engine.storageKey(keyed, headers ?? [...response.headers])
  const ttl =
    store && decision.store && decision.expires !== null ? Math.floor((decision.expires - responseTime) / 1000) : undefined
  // RFC 9211 §2.8: a store known to be down is said so, and then nothing claims `stored`.
  const down = engine.health.down === undefined ? undefined : 'store-unavailable'
  if (!store || !decision.store || !headers) {
    const status = cacheStatus({ fwd, fwdStatus: response.status, ttl, detail: down })
    return { kind: 'origin', response, cacheStatus: status, info: keyedInfo(cacheKey, responseTime) }
  }
  let confirm: (stored: boolean) => void = () => {}
  let accept: () => void = () => {}
  const accepted = new Promise<void>((resolve) => (accept = resolve))
  const info: CacheInfo = keyedInfo(cacheKey, responseTime, new Promise((resolve) => (confirm = resolve)))
  const settle = (stored: boolean) => {
    accept()
    confirm(stored)
  }
  // RFC 9211 §2.5: `stored` only where it is known before the body: a length within maxEntrySize, no
  // filter (it decides once the body has arrived), on a working store. It is sent before the body has
  // arrived; `cacheInfo(r).stored` confirms the write.
  const coding = response.decoded ? undefined : (response.headers.get('content-encoding') ?? undefined)
  const length = response.body ? response.headers.get('content-length') : '0'
  const knownLength = length !== null && /^\d+$/.test(length)
  const status = cacheStatus({
    fwd,
    fwdStatus: response.status,
    stored: knownLength && !settings.filter && !down && canDecode(coding),
    ttl,
    detail: down,
  })
  const expires = decision.expires
  // RFC 9111 §4: identical requests waiting on this one share it only when a hit could answer them
  // with it: fresh, and no Set-Cookie that the stored response would not replay (one user's cookie).
  const keepsCookies = keepsSetCookie(plan, settings)
  const reusable =
    (expires === null || expires > responseTime) &&
    (keepsCookies || !(response.headers.has('set-cookie') || response.headers.has('set-cookie2')))
      ? settings.filter
        ? ('once-stored' as const)
        : ('as-sent' as const)
      : undefined
  // The length the recorded bytes must have: Content-Length counts them as they came, before any
  // decoding. A body of another length is not the response the fields describe (an interceptor
  // between the cache and the origin may have dropped it, as undici's dump does): never stored.
  const exact =
    knownLength &&
    !isBodiless(response.status, keyed.method) &&
    (coding !== undefined || !response.headers.has('content-encoding'))
      ? Number(length)
      : undefined
  const save = async (raw: Uint8Array) => {
    if (exact !== undefined && raw.byteLength !== exact) {
      debug('not storing %s: %d bytes where Content-Length says %d', engine.redact(keyed.url), raw.byteLength, exact)
      settle(false)
      return
    }
    let body: Uint8Array
    try {
      // A bodiless answer (to HEAD, a 204, a 304) keeps its coding's field and has no bytes to decode.
      body = raw.byteLength === 0 ? raw : decode(raw, coding, settings.maxEntrySize)
    } catch (error) {
      // What the origin sent cannot be decoded (too large, a coding this cache lacks, corrupt bytes):
      // it goes to the caller as it came, unstored; the cache itself has not failed.
      debug('not storing %s: %s', engine.redact(keyed.url), (error as Error).message)
      settle(false)
      return
    }
    const { filter } = settings
    if (filter && !(await passesFilter(filter, response, body, (error) => engine.report(error, 'filter')))) {
      debug('not storing %s: filtered', engine.redact(keyed.url))
      settle(false)
      return
    }
    const stored = {
      // Redacted by `save`, with the request URL (once when they are the same).
      responseUrl: response.url || keyed.url,
      status: response.status,
      statusText: response.statusText,
      headers,
      redirected: response.redirected,
      body,
      encoding: 'identity' as const,
      requestTime,
      responseTime,
      createdAt: responseTime,
      expires,
    }
    const saved = await engine.save(keyed, stored)
    const asGet = getFor(engine, call.plan, keyed.method, call.request.url, keyed.headers, response.headers)
    if (asGet) await engine.save(asGet, stored)
    if (!saved) return settle(false)
    // This process reads the entry from now on: the caller's response learns it, and `stored` says
    // whether the store confirms the write (the entry is forgotten again if it does not).
    const unsaved = { ...info }
    Object.assign(info, infoFor(saved.entry, responseTime, false, false, false, info.stored))
    accept()
    void saved.confirmed.then((ok) => {
      if (!ok) Object.assign(info, unsaved)
      confirm(ok)
    })
  }
  const shared = reusable ? { reusable } : {}
  if (!response.body) {
    void save(new Uint8Array(0))
    return { kind: 'origin', response, cacheStatus: status, info, ...shared }
  }
  // The length of what is recorded, when the header gives it (fetch decodes: then only without a coding).
  const identity = !response.headers.has('content-encoding')
  const expected = identity && knownLength ? Number(length) : undefined
  const body = recordBody(response.body, settings.maxEntrySize, save, () => settle(false), expected)
  if (settings.coalesce) markRecording(engine, keyed.baseKey, keyed.url, accepted)
  return { kind: 'origin', response: { ...response, body }, cacheStatus: status, info, ...shared }
}
