import { type CacheEntry, storedField } from '../entry/entry.js'
import { openCookies } from '../entry/sealed-cookies.js'
import { isPromise, type MaybePromise } from '../entry/store.js'
import { appendCacheStatus, bypassStatus, cacheStatus, type Forwarded } from '../http/cache-status.js'
import { decode } from '../http/content-coding.js'
import { varyNames } from '../http/vary.js'
import { infoFor, keyedInfo, ttlSeconds } from '../observe/cache-info.js'
import type { LookupOutcome } from '../observe/events.js'
import {
  type CachedAction,
  decideCached,
  isExpired,
  isOriginError,
  mayServeOnError,
  mustRevalidate,
  planRequest,
  replays,
} from '../policy/actions.js'
import { currentAge, isConditionalRequest } from '../policy/freshness.js'
import { notModifiedMatches, satisfiesConditional } from '../policy/stored-headers.js'
import type { CacheRequest } from '../request/cache-request.js'
import { refreshInBackground } from './background-refresh.js'
import { offline } from './cache-miss.js'
import type { Call } from './call.js'
import { coalesced, joinsFlight } from './coalescing.js'
import { debug, type Engine, isSafeMethod, type KeyedRequest } from './engine.js'
import { freshenFromHead } from './head.js'
import { invalidateAfter } from './invalidation.js'
import { discard, type Forward, type OriginResponse, type Outcome, release } from './outcome.js'
import { complete, completion } from './partial.js'
import { storedAsGet } from './post-as-get.js'
import { rangeOf } from './ranges.js'
import { storeAndPass } from './store-and-pass.js'
import { afterTurn } from './timers.js'

/**
 * The one request flow both fronts share (lib/README.md, "The exchange"): given a request, it decides
 * (serve a stored entry, forward with conditions, generate a 504), calls the front's `forward` when the
 * origin is needed, decides again on the answer (pass it on and store it, serve the stored entry after
 * a 304 or a failure stale-if-error covers, ask again unconditionally) and says what the caller gets as
 * an `Outcome`. The fronts only turn outcomes into a `Response` or into handler calls.
 */

export type { CacheRequest }

/**
 * Runs one request through the cache. Synchronous for a fresh hit from a synchronous store, so a hit
 * costs no extra turn of the loop (unless hits have kept the loop from turning too long:
 * engine/loop-turns.ts); a Promise otherwise. Rejects only with the origin's own error, or
 * with a `CacheMissError` when `onlyIfCached: 'throw'` finds nothing to serve.
 */
export function exchange(engine: Engine, request: CacheRequest, forward: Forward): MaybePromise<Outcome> {
  const { inFlight } = engine
  inFlight.hold()
  let outcome: MaybePromise<Outcome>
  try {
    outcome = run(engine, request, forward)
  } catch (error) {
    inFlight.release()
    throw error
  }
  if (!isPromise(outcome)) {
    const done = settle(outcome, engine)
    return engine.loopTurns.mustYield() ? afterTurn(done) : done
  }
  return outcome.then(
    (done) => settle(done, engine),
    (error: unknown) => {
      inFlight.release()
      throw error
    },
  )
}

/** Releases the engine once an outcome no longer needs the store: an answer being stored, when its write settled. */
function settle(outcome: Outcome, engine: Engine): Outcome {
  if (outcome.kind === 'origin') void outcome.info.stored.then(() => engine.inFlight.release())
  else engine.inFlight.release()
  return outcome
}

function run(engine: Engine, request: CacheRequest, forward: Forward): MaybePromise<Outcome> {
  const waiting = engine.whenReady()
  if (waiting) return waiting.then(() => run(engine, request, forward))
  const settings = engine.settings
  const started = engine.events.lookupStart()
  const plan = request.bypass
    ? ({ kind: 'bypass', reason: request.bypass } as const)
    : planRequest(
        {
          method: request.method,
          url: request.url,
          headers: request.headers,
          mode: request.mode,
          options: request.options,
          unkeyableBody: request.bodyDigest === undefined,
        },
        settings,
      )
  if (plan.kind === 'bypass') {
    engine.events.lookup(request.method, request.url, undefined, 'bypass', plan.reason, started)
    if (replays(request.options, settings)) return offline(engine, request, `the cache does not take part (${plan.reason})`)
    return bypass(engine, request, forward, plan.reason)
  }
  let keyed: KeyedRequest
  try {
    const bodyDigest = request.bodyDigest as string
    keyed = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      bodyDigest,
      baseKey: engine.keyFor(request.method, request.url, request.headers, bodyDigest),
      epoch: engine.inFlight.epoch,
    }
  } catch (error) {
    engine.report(error, 'key')
    engine.events.lookup(request.method, request.url, undefined, 'bypass', 'key failed', started)
    if (replays(request.options, settings)) return offline(engine, request, 'the request could not be keyed')
    return bypass(engine, request, forward, 'key failed')
  }
  const call: Call = { engine, request, keyed, plan, forward, started }
  if (!plan.read) return decide(call, undefined)
  const recording = settings.coalesce ? engine.inFlight.recording(keyed.baseKey) : undefined
  if (recording) return recording.then(() => lookUpAndDecide(call))
  return lookUpAndDecide(call)
}

function lookUpAndDecide(call: Call): MaybePromise<Outcome> {
  const found = call.engine.lookupFor(call.keyed)
  return isPromise(found) ? found.then((entry) => decide(call, entry)) : decide(call, found)
}

function decide(call: Call, entry: CacheEntry | undefined): MaybePromise<Outcome> {
  const { engine, plan, request } = call
  const now = engine.now()
  // rfc: a stored piece (206) never answers a request for the whole: it is completed, or it is a miss.
  if (entry?.status === 206 && !plan.range) {
    const piece = completion(entry, plan, call.keyed.method)
    if (piece) {
      engine.events.lookup(request.method, request.url, entry.key, 'miss', 'completing a stored piece', call.started)
      const pass = (response: OriginResponse, requestTime: number, responseTime: number) =>
        storeAndPass(call, response, requestTime, responseTime, 'miss')
      const refetch = () => fromOrigin(call, undefined, undefined, request.signal, 'miss')
      return complete(entry, piece, call.forward, request.signal, engine.now, pass, refetch)
    }
    entry = undefined
  }
  // The fronts share entries, but a redirect is answered apart: fetch following redirects never gets a
  // stored 3xx it would follow, nor another caller where a followed redirect led. Such an entry is a
  // miss here, replaced by the answer this caller gets.
  if (entry && (request.follows ? followable(entry) : entry.redirected)) entry = undefined
  const action = decideCached(plan, entry, engine.settings, now)
  // rfc: one byte range, answered from an entry served as it is when it holds the range. Otherwise the
  // origin answers; its answer is stored unless a complete response is (a piece never replaces it).
  if (plan.range && action.kind !== 'not-cached') {
    const ranged =
      action.kind === 'serve' && entry
        ? rangeOf(entry, plan.range, request.headers.get('if-range'), request.headers.get('range') ?? '')
        : undefined
    if (!ranged) {
      if (entry && entry.status !== 206) {
        engine.events.lookup(request.method, request.url, undefined, 'bypass', 'Range request', call.started)
        if (plan.replay) return offline(engine, request, 'the stored response cannot answer this Range request')
        return bypass(engine, request, call.forward, 'Range request')
      }
      engine.events.lookup(request.method, request.url, entry?.key, 'miss', 'range not held', call.started)
      if (plan.replay) return offline(engine, request, 'the stored piece does not hold this range')
      return fromOrigin(call, undefined, undefined, request.signal, 'miss')
    }
    announce(call, entry, action, now)
    return serveOrRefetch(call, ranged, now, { stale: action.kind === 'serve' && action.stale })
  }
  announce(call, entry, action, now)
  switch (action.kind) {
    case 'serve':
      return serveOrRefetch(call, entry as CacheEntry, now, { stale: action.stale })
    case 'serve-stale-and-refresh':
      if (plan.write)
        refreshInBackground(engine, call.keyed, action.conditional, (conditional, signal) =>
          fromOrigin(
            { ...call, request: { ...call.request, signal: undefined }, background: true },
            entry,
            conditional,
            signal,
            'stale',
          ),
        ) // readOnly could not store the refresh
      return serveOrRefetch(call, entry as CacheEntry, now, { stale: true, detail: 'stale-while-revalidate' })
    case 'not-cached':
      if (plan.replay) return offline(engine, request, 'no stored response')
      return {
        kind: 'generated',
        status: 504,
        statusText: 'Not Cached',
        body: 'Not Cached',
        cacheStatus: cacheStatus({ fwd: 'miss', detail: 'only-if-cached' }),
        info: keyedInfo(call.keyed.baseKey, now),
      }
    case 'revalidate':
      return fromOrigin(call, entry, action.headers, request.signal, forwardReason(call, entry, now))
    case 'fetch':
      if (coalesces(call, entry))
        return coalesced(
          engine,
          call.keyed,
          request.signal,
          (signal) => fromOrigin(call, undefined, undefined, signal, plan.read ? 'miss' : 'request'),
          (signal) => call.forward(undefined, signal, false),
          (afterStore) => alone(call, afterStore),
        )
      return fromOrigin(call, entry, undefined, request.signal, forwardReason(call, entry, now))
    default:
      return action satisfies never
  }
}

/**
 * A coalesced caller's own exchange when the answer it waited for may not be reused for it (RFC 9111
 * §4): its own request, or with `afterStore` first the entry that answer was stored as, as a request
 * made once it arrived would find it (engine/coalescing.ts). Counted and announced again as what it
 * turned out to be, no longer `coalesced`.
 */
async function alone(call: Call, afterStore: boolean): Promise<Outcome> {
  const { engine, request, keyed } = call
  engine.events.coalescedAlone()
  if (afterStore) {
    await engine.inFlight.recording(keyed.baseKey)
    const entry = await engine.lookupFor(keyed)
    if (entry) return decide(call, entry) // counted and announced there
  }
  engine.events.lookup(request.method, request.url, keyed.baseKey, 'miss', 'the shared answer may not be reused', call.started)
  return fromOrigin(call, undefined, undefined, request.signal, 'miss')
}

/** Counts the decision and publishes it as `fetch-http-cache:lookup` (and the debug line). */
function announce(call: Call, entry: CacheEntry | undefined, action: CachedAction, now: number): void {
  const { engine, request, keyed } = call
  const key = entry?.key ?? keyed.baseKey
  const say = (outcome: LookupOutcome, reason: string) =>
    engine.events.lookup(request.method, request.url, key, outcome, reason, call.started)
  if (action.kind === 'serve') say(action.stale ? 'stale' : 'hit', action.stale ? 'stale allowed' : 'fresh')
  else if (action.kind === 'serve-stale-and-refresh') say('stale', 'stale-while-revalidate')
  else if (action.kind === 'not-cached') say('miss', 'only-if-cached')
  else if (action.kind === 'revalidate') say('revalidate', forwardReason(call, entry, now))
  else if (coalesces(call, entry) && joinsFlight(engine, keyed)) say('coalesced', 'an identical request is in flight')
  else {
    const fwd = forwardReason(call, entry, now)
    say('miss', fwd === 'miss' ? 'not stored' : fwd === 'stale' ? 'stale, no validator' : call.plan.read ? 'request' : 'not read')
  }
}

/** Whether a request that goes to the origin shares an identical one's request (only safe methods: RFC 9110 §9.2.1). */
function coalesces(call: Call, entry: CacheEntry | undefined): boolean {
  const { plan } = call
  return (
    !entry &&
    call.engine.settings.coalesce &&
    // A request that asks the origin itself (a reload, forceRefresh, no-cache) never takes an answer to one sent before it.
    plan.read &&
    !plan.revalidate &&
    isSafeMethod(call.keyed.method) &&
    !call.request.ownConnection
  )
}

/** Why a request went to the origin (RFC 9211 §2.2 `fwd`): not read, a fresh entry revalidated on request, stale, or a miss. */
function forwardReason(call: Call, entry: CacheEntry | undefined, now: number): Forwarded {
  if (!call.plan.read || (entry && !isExpired(entry, now))) return 'request'
  return entry ? 'stale' : 'miss'
}

/** The request goes past the cache; a successful unsafe method still invalidates (RFC 9111 §4.4). */
async function bypass(engine: Engine, request: CacheRequest, forward: Forward, reason: string): Promise<Outcome> {
  const requestTime = engine.now()
  const response = await forward(undefined, request.signal, false)
  await invalidateAfter(engine, request, response.status, response.headers)
  // rfc: a POST outside allowableMethods whose answer is also a GET's is stored as that GET.
  const asGet = reason === `method ${request.method}` ? storedAsGet(engine, request, response.headers) : undefined
  if (asGet)
    return storeAndPass({ engine, request, forward, started: 0, ...asGet }, response, requestTime, engine.now(), 'method')
  // rfc: with cacheControl on, an RFC 9211 §2.8 detail says why the cache stayed out of the way.
  const cacheControl = request.options.cacheControl ?? engine.settings.cacheControl
  const status = bypassStatus(reason, response.status, cacheControl !== false)
  return { kind: 'origin', response, cacheStatus: status, info: infoFor(undefined, engine.now(), false) }
}

interface ServeHow {
  stale?: boolean
  revalidated?: boolean
  detail?: string
  fwd?: Forwarded
  fwdStatus?: number
  stored?: boolean
}

/** Serves a stored entry; one that cannot be served (say, an unknown content-coding) is dropped and fetched anew. */
function serveOrRefetch(call: Call, entry: CacheEntry, now: number, how: ServeHow): MaybePromise<Outcome> {
  try {
    return serveEntry(call, entry, now, how)
  } catch (error) {
    call.engine.report(error, 'decode')
    return Promise.resolve(call.engine.remove([entry.key], 'undecodable', [entry.url])).then(() =>
      fromOrigin(call, undefined, undefined, call.request.signal, 'miss'),
    )
  }
}

function serveEntry(call: Call, entry: CacheEntry, now: number, how: ServeHow): Outcome {
  const age = Math.floor(currentAge(entry, now) / 1000)
  const ttl = ttlSeconds(entry, now)
  const status =
    how.fwd === undefined
      ? cacheStatus({ hit: true, ttl, detail: how.detail })
      : cacheStatus({ fwd: how.fwd, fwdStatus: how.fwdStatus, stored: how.stored ?? false, ttl, detail: how.detail })
  const headers: [string, string][] = []
  const upstream: string[] = []
  // Throws for a Set-Cookie that does not open: the caller drops the entry and fetches anew.
  for (const pair of openCookies(entry.headers, call.engine.store.secret)) {
    if (pair[0] === 'cache-status') upstream.push(pair[1])
    else if (pair[0] !== 'age') headers.push(pair)
  }
  // The stored members (the caches nearer the origin, when it was received or revalidated), then ours.
  headers.push(['age', String(age)], ['cache-status', appendCacheStatus(upstream.join(', ') || null, status)])
  // Throws for an entry whose body cannot be decoded: the caller drops it and fetches anew.
  if (entry.encoding !== 'identity') decode(entry.body, storedField(entry, 'content-encoding') ?? undefined)
  const { headers: requestHeaders } = call.request
  const notModified = isConditionalRequest(requestHeaders) && satisfiesConditional(requestHeaders, entry)
  return {
    kind: 'entry',
    entry,
    headers,
    info: infoFor(entry, now, true, how.revalidated ?? false, how.stale ?? false),
    notModified,
  }
}

/**
 * Sends the request to the origin (conditionally when `conditional` is given) and decides on the
 * answer. A 304 refreshes `entry`; a failure falls back to `entry` when stale-if-error allows.
 */
async function fromOrigin(
  call: Call,
  entry: CacheEntry | undefined,
  conditional: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
  fwd: Forwarded,
): Promise<Outcome> {
  const { engine, plan } = call
  const requestTime = engine.now()
  const revalidating = conditional ? engine.events.start('revalidate') : 0
  let response: OriginResponse
  try {
    response = await call.forward(conditional, signal, call.background === true)
  } catch (error) {
    const now = engine.now()
    if (entry && !signal?.aborted && mayServeOnError(plan, entry, engine.settings, now)) {
      debug('%s %s: network error, serving stale (stale-if-error)', call.keyed.method, engine.redact(call.request.url))
      if (isExpired(entry, now)) engine.events.staleFallback()
      return serveOrRefetch(call, entry, now, { stale: isExpired(entry, now), detail: 'stale-if-error', fwd })
    }
    // rfc: only with cacheControl on: an entry that must be validated before reuse, and the origin
    // cannot be reached: a generated 504, never the entry (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.4).
    if (entry && !signal?.aborted && mustRevalidate(plan, entry)) {
      debug('network error revalidating %s: 504: %s', engine.redact(call.request.url), error)
      return revalidationFailed(fwd, now)
    }
    throw error
  }
  const responseTime = engine.now()
  const settings = engine.settings
  if (conditional) {
    engine.events.revalidated(
      call.keyed.method,
      call.request.url,
      entry?.key ?? call.keyed.baseKey,
      response.status,
      revalidating,
    )
  }

  // RFC 9111 §4.3.4: a 304 to our conditional request freshens the stored entry, every time. An
  // origin that answers 304 to a plain request means the same (requests-cache: test_304_not_modified);
  // only a 304 to the caller's own conditional request is theirs to see.
  if (response.status === 304 && entry && (conditional || !isConditionalRequest(call.request.headers))) {
    await discard(response)
    // rfc: RFC 9111 §4.3.4: a 304 naming another strong validator does not describe what we hold:
    // ask again, unconditionally.
    if (!notModifiedMatches(entry, response.headers)) return fromOrigin(call, undefined, undefined, signal, fwd)
    const renewed = await engine.renew(plan, entry, response.headers, requestTime, responseTime)
    if (renewed.stored) await rekeyOnNewVary(call, entry, renewed.entry)
    return serveOrRefetch(call, renewed.entry, responseTime, { revalidated: true, fwd, fwdStatus: 304, stored: renewed.stored })
  }
  if (entry && isOriginError(response.status, settings) && mayServeOnError(plan, entry, settings, responseTime)) {
    debug('%s %s: origin %d, serving stale (stale-if-error)', call.keyed.method, engine.redact(call.request.url), response.status)
    await discard(response)
    if (isExpired(entry, responseTime)) engine.events.staleFallback()
    const how = { stale: isExpired(entry, responseTime), detail: 'stale-if-error', fwd, fwdStatus: response.status }
    return serveOrRefetch(call, entry, responseTime, how)
  }
  // rfc: a HEAD answered by the origin while we hold a GET response: refresh that response (RFC 9111 §4.3.5).
  if (entry && call.keyed.method === 'HEAD' && entry.method === 'GET') {
    if (response.status === 200 && plan.write) {
      await freshenFromHead(engine, plan, entry, response.headers, requestTime, responseTime)
    }
    const status = cacheStatus({ fwd, fwdStatus: response.status })
    return { kind: 'origin', response, cacheStatus: status, info: keyedInfo(entry.key, responseTime) }
  }
  // An unsafe method the cache takes part in (allowableMethods) still invalidates (RFC 9111 §4.4).
  await invalidateAfter(engine, call.request, response.status, response.headers)
  const outcome = storeAndPass(call, response, requestTime, responseTime, fwd)
  return plan.sharedCache ? answerConditionally(call, outcome, responseTime, fwd) : outcome
}

/**
 * RFC 9111 §4.3.2: a shared cache answers the caller's own conditional request itself, here with the
 * new 200 it fetched: a 304 when that response satisfies the caller's conditions (a validator newer
 * than the cache's), served from the entry once it is stored; the 200 as it is otherwise, or when it
 * is not stored.
 */
async function answerConditionally(call: Call, outcome: Outcome, responseTime: number, fwd: Forwarded): Promise<Outcome> {
  const { headers } = call.request
  if (outcome.kind !== 'origin' || outcome.response.status !== 200 || !isConditionalRequest(headers)) return outcome
  if (!satisfiesConditional(headers, { status: 200, headers: [...outcome.response.headers] })) return outcome
  if (!(await outcome.info.stored)) return outcome
  const entry = await call.engine.lookupFor(call.keyed)
  if (entry?.createdAt !== outcome.info.createdAt?.getTime()) return outcome
  void release(outcome)
  // The 304 comes from the entry; what the caller learns is the origin's fresh answer, just stored.
  const served = await serveOrRefetch(call, entry as CacheEntry, responseTime, { fwd, fwdStatus: 200, stored: true })
  return served.kind === 'entry' ? { ...served, info: outcome.info } : served
}

/** The 504 a disconnected cache generates for an entry it may not serve unvalidated (RFC 9111 §4.2.4). */
function revalidationFailed(fwd: Forwarded, now: number): Outcome {
  return {
    kind: 'generated',
    status: 504,
    statusText: 'Gateway Timeout',
    body: 'Gateway Timeout',
    cacheStatus: cacheStatus({ fwd, detail: 'revalidation-failed' }),
    info: infoFor(undefined, now, false),
  }
}

/**
 * RFC 9111 §4.1: a 304 whose `Vary` differs from the stored response's selects with the new one, so
 * the entry moves to the key its new `Vary` gives (beside a marker), and the old key goes.
 */
async function rekeyOnNewVary(call: Call, old: CacheEntry, renewed: CacheEntry): Promise<void> {
  const vary = varyNames(renewed.headers)
  if ((vary?.join(',') ?? '') === (old.vary?.join(',') ?? '')) return
  const { v, key, kind, url, requestHeaders, method, bodyDigest, vary: _, ...response } = renewed
  const saved = await call.engine.save(call.keyed, response)
  if (saved && old.key !== saved.entry.key && old.key !== call.keyed.baseKey) {
    await call.engine.remove([old.key], 'moved by a new Vary', [old.url])
  }
}

/** A stored redirect fetch would follow (Fetch §4.4: these statuses with a Location). */
function followable(entry: CacheEntry): boolean {
  return REDIRECTS.has(entry.status) && storedField(entry, 'location') !== null
}

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])
