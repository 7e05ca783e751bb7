import type { Dispatcher } from 'undici'
import type { Engine } from '../../engine/engine.js'
import { exchange } from '../../engine/exchange.js'
import type { OriginResponse, Outcome } from '../../engine/outcome.js'
import { identityBody } from '../../entry/entry.js'
import { isPromise } from '../../entry/store.js'
import { isFetchCacheError } from '../../errors.js'
import { isBodiless, notModifiedFields } from '../../http/bodiless.js'
import { appendCacheStatus } from '../../http/cache-status.js'
import { fieldLines } from '../../http/field-lines.js'
import { type CacheDispatchOptions, optionsToSend, requestFromDispatch } from '../../request/from-dispatch.js'
import { isOriginRequest } from '../origin-mark.js'
import { type AnyHandler, type HeaderPairs, Sink } from './handlers.js'
import { forward, relay } from './upstream.js'

/**
 * The dispatcher front (lib/README.md): `undici.request()`, `stream()`, undici's `fetch` and any fetch
 * that reads the global dispatcher come through here. The exchange decides; this module only turns
 * its outcomes into handler calls. Bodies are served without content-coding (dispatchers do not decode).
 */

type Dispatch = (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => boolean

/**
 * Dispatches one request through the cache, onto `next` (the dispatcher the cache wraps). Accepts
 * handlers of either undici API, always ends them with one terminal callback, and never throws
 * for what the origin does: its errors reach the handler as they would without the cache.
 * `native`: `next` is where the caller's handler would have gone without the cache (see
 * install/global-dispatcher.ts), so a request the cache stays out of is handed to it as it is.
 */
export function dispatchThroughCache(
  next: Dispatch,
  engine: Engine | undefined,
  opts: CacheDispatchOptions,
  handler: AnyHandler,
  native = true,
): boolean {
  if (!handler || typeof handler !== 'object') return next(opts, handler as Dispatcher.DispatchHandler)
  // Upgrades (WebSocket, CONNECT) and the fetch front's own origin requests pass untouched.
  if (!engine || opts.upgrade || opts.method === 'CONNECT' || isOriginRequest()) {
    if (native) return next(optionsToSend(opts, undefined), handler as Dispatcher.DispatchHandler)
    relay(next, optionsToSend(opts, undefined), new Sink(handler), handler)
    return true
  }
  const sink = new Sink(handler)
  const signal = abortSignalOf(sink)
  let request: ReturnType<typeof requestFromDispatch>
  try {
    request = requestFromDispatch(opts, engine.settings.ignored, signal)
  } catch (error) {
    if (isFetchCacheError(error)) {
      // A bad cacheOptions: the caller's mistake, said as an error of this request.
      queueMicrotask(() => {
        sink.start()
        sink.error(error as Error)
      })
      return true
    }
    engine.report(error, 'key')
    relay(next, optionsToSend(opts, undefined), sink, handler)
    return true
  }
  queueMicrotask(() => {
    sink.start()
    if (sink.controller.aborted) return
    let outcome: ReturnType<typeof exchange>
    try {
      outcome = exchange(engine, request, (conditional, forwardSignal) =>
        forward(next, optionsToSend(opts, conditional), request.url, forwardSignal, { handler, sink }),
      )
    } catch (error) {
      fail(sink, error)
      return
    }
    if (isPromise(outcome))
      outcome.then(
        (done) => render(done, sink, request.method),
        (error) => fail(sink, error),
      )
    else render(outcome, sink, request.method)
  })
  return true
}

/** An AbortSignal that follows the caller's controller: aborting stops serving and aborts the origin request. */
function abortSignalOf(sink: Sink): AbortSignal {
  const abort = new AbortController()
  sink.controller.onAbort((reason) => {
    abort.abort(reason)
    // Nothing upstream to report the abort (a hit, or before forwarding): end the caller here.
    queueMicrotask(() => sink.error(reason))
  })
  return abort.signal
}

function fail(sink: Sink, error: unknown): void {
  sink.error(error instanceof Error ? error : new Error(String(error)))
}

/** Delivers an outcome to the caller's handler. */
function render(outcome: Outcome, sink: Sink, method: string): void {
  if (sink.done) {
    if (outcome.kind === 'origin') void outcome.response.body?.cancel().catch(() => {})
    return
  }
  switch (outcome.kind) {
    case 'entry':
      serveEntry(outcome, sink, method)
      return
    case 'generated': {
      const body = Buffer.from(outcome.body)
      const headers: [string, string][] = [
        ['content-type', 'text/plain; charset=utf-8'],
        ['content-length', String(body.byteLength)],
        ['cache-status', outcome.cacheStatus],
      ]
      sink.responseStart(outcome.status, headers, outcome.statusText)
      sink.data(body)
      sink.end()
      return
    }
    case 'origin':
      void pass(outcome.response, outcome.cacheStatus, sink)
      return
    default:
      outcome satisfies never
  }
}

/** Fields a served body makes untrue: the body goes out decoded, with its own length. */
const BODY_FIELDS = new Set(['content-encoding', 'content-length', 'transfer-encoding'])

function serveEntry(outcome: Extract<Outcome, { kind: 'entry' }>, sink: Sink, method: string): void {
  const { entry } = outcome
  const status = outcome.notModified ? 304 : entry.status
  const noBody = outcome.notModified || isBodiless(entry.status, method)
  const body = noBody ? undefined : Buffer.from(identityBody(entry))
  const headers: [string, string][] = []
  const fields = outcome.notModified ? notModifiedFields(outcome.headers) : outcome.headers
  for (const pair of fields) if (!BODY_FIELDS.has(pair[0])) headers.push([pair[0], pair[1]])
  if (body) headers.push(['content-length', String(body.byteLength)])
  else if (method === 'HEAD' && !outcome.notModified) {
    // rfc: a HEAD answer carries the length GET would send (RFC 9110 §9.3.2): the stored one.
    const stored = entry.method === 'GET' ? String(identityBody(entry).byteLength) : lengthField(outcome.headers)
    if (stored !== undefined) headers.push(['content-length', stored])
  }
  sink.responseStart(status, headers, outcome.notModified ? 'Not Modified' : entry.statusText)
  if (body && body.byteLength > 0) sink.data(body)
  sink.end()
}

function lengthField(headers: HeaderPairs): string | undefined {
  return headers.find(([name]) => name === 'content-length')?.[1]
}

/** Passes the origin's answer on, honouring the caller's pauses, until its body ends. */
async function pass(response: OriginResponse, cacheStatus: string, sink: Sink): Promise<void> {
  const headers: [string, string][] = []
  for (const [name, value] of fieldLines(response.headers)) if (name !== 'cache-status') headers.push([name, value])
  headers.push(['cache-status', appendCacheStatus(response.headers.get('cache-status'), cacheStatus)])
  const reader = response.body?.getReader()
  try {
    sink.responseStart(response.status, headers, response.statusText)
    const controller = sink.controller
    while (reader) {
      if (controller.paused) await controller.resumed()
      if (controller.aborted || sink.done) {
        await reader.cancel(controller.reason).catch(() => {})
        return
      }
      const { done, value } = await reader.read()
      if (done) break
      if (sink.done) continue
      sink.data(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
    }
    sink.end(response.trailers)
  } catch (error) {
    fail(sink, error)
  }
}

/**
 * The cache as an undici interceptor (`agent.compose(interceptor)`), over the engine `resolveEngine`
 * gives for each request (`undefined`: caching is off for it).
 */
export function createInterceptor(resolveEngine: () => Engine | undefined): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatchThroughCache(dispatch as Dispatch, resolveEngine(), opts, handler as AnyHandler)
}
