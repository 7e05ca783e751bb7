import type { Dispatcher } from 'undici'
import type { OriginResponse } from '../../engine/outcome.js'
import { isBodiless } from '../../http/bodiless.js'
import { headersOfLines } from '../../http/field-lines.js'
import { type AnyHandler, headerObject, pairsFromObject, pairsFromRaw, rawPairs, type Sink } from './handlers.js'

/**
 * The handler the dispatcher front gives to the dispatcher it wraps. It implements both handler APIs:
 * undici 7 and 8 see `onRequestStart` and call only the new callbacks, undici 6 knows only the legacy
 * ones, so one object speaks to whichever undici the process holds (lib/README.md, "Any undici").
 * A missing controller (undici 8 reports errors raised before a request starts with `null`) is fine.
 */

/** What the origin side can be asked to do. */
interface Control {
  abort(reason: Error): void
  pause(): void
  resume(): void
}

/** What an upstream handler reports, in one shape whichever API delivered it. */
interface Events {
  /**
   * `history`: the URLs a redirect handler below has requested so far (undici's `context.history`, a
   * live array it extends as each response arrives), when one is there.
   */
  start(control: Control, history?: readonly URL[]): void
  /** Returns `false` to pause. */
  headers(statusCode: number, headers: [string, string][], statusText: string): boolean
  /** An interim (1xx) response, e.g. 103 Early Hints: the final one follows (RFC 9110 §15.2). */
  info?(statusCode: number, headers: [string, string][], statusText: string): void
  /** Returns `false` to pause. */
  data(chunk: Buffer): boolean
  /** The body ended; `trailers`: the trailer fields that followed it (RFC 9110 §6.5). */
  end(trailers: [string, string][]): void
  error(error: Error): void
  upgrade?(statusCode: number, headers: [string, string][], socket: unknown, controller: unknown): void
  /** The caller's handler, for the progress callbacks both APIs share. */
  extras?: AnyHandler
}

type Controller =
  | { abort(reason?: Error): void; pause?(): void; resume?(): void; rawHeaders?: unknown; rawTrailers?: unknown }
  | null
  | undefined

class UpstreamHandler {
  readonly #events: Events
  #legacyPaused = false
  #legacyResume: (() => void) | undefined

  constructor(events: Events) {
    this.#events = events
  }

  // The new API (undici 7 and 8).
  onRequestStart(controller: Controller, context?: { history?: unknown }): void {
    this.#events.start(
      {
        abort: (reason) => controller?.abort(reason),
        pause: () => controller?.pause?.(),
        resume: () => controller?.resume?.(),
      },
      historyOf(context),
    )
  }
  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    socket: unknown,
  ): void {
    this.#events.upgrade?.(statusCode, pairsOf(controller, headers), socket, controller)
  }
  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    statusText?: string,
  ): void {
    if (statusCode < 200) {
      this.#events.info?.(statusCode, pairsOf(controller, headers), statusText ?? '')
      return
    }
    if (!this.#events.headers(statusCode, pairsOf(controller, headers), statusText ?? '')) controller?.pause?.()
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.#events.data(chunk)) controller?.pause?.()
  }
  onResponseEnd(controller: Controller, trailers?: Record<string, string | string[]> | null): void {
    const raw = controller?.rawTrailers
    this.#events.end(Array.isArray(raw) ? pairsFromRaw(raw) : pairsFromObject(trailers))
  }
  onResponseError(_controller: Controller, error: Error): void {
    this.#events.error(error)
  }

  // The legacy API (undici 6, and 7 for handlers without onRequestStart).
  onConnect(abort: (reason?: Error) => void, context?: { history?: unknown }): void {
    this.#events.start(
      {
        abort: (reason) => abort(reason),
        pause: () => {
          this.#legacyPaused = true
        },
        resume: () => {
          this.#legacyPaused = false
          this.#legacyResume?.()
        },
      },
      historyOf(context),
    )
  }
  onUpgrade(statusCode: number, rawHeaders: Buffer[], socket: unknown): void {
    this.#events.upgrade?.(statusCode, pairsFromRaw(rawHeaders ?? []), socket, undefined)
  }
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText?: string): boolean {
    this.#legacyResume = resume
    if (statusCode < 200) {
      this.#events.info?.(statusCode, pairsFromRaw(rawHeaders ?? []), statusText ?? '')
      return true
    }
    return this.#events.headers(statusCode, pairsFromRaw(rawHeaders ?? []), statusText ?? '') && !this.#legacyPaused
  }
  onData(chunk: Buffer): boolean {
    return this.#events.data(chunk) && !this.#legacyPaused
  }
  onComplete(rawTrailers?: Buffer[] | null): void {
    this.#events.end(pairsFromRaw(rawTrailers ?? []))
  }
  onError(error: Error): void {
    this.#events.error(error)
  }

  // Progress callbacks, the same in both APIs.
  onBodySent(chunk: unknown): void {
    this.#events.extras?.onBodySent?.(chunk)
  }
  onRequestSent(): void {
    this.#events.extras?.onRequestSent?.()
  }
  onResponseStarted(): void {
    this.#events.extras?.onResponseStarted?.()
  }
}

/** The redirect history a handler below passes in its context (undici 6, 7 and 8's RedirectHandler). */
function historyOf(context: { history?: unknown } | undefined): readonly URL[] | undefined {
  const history = context?.history
  return Array.isArray(history) ? history : undefined
}

/** undici 8 prefers `controller.rawHeaders` (it keeps repeated fields and their order). */
function pairsOf(controller: Controller, headers: Record<string, string | string[]> | null | undefined): [string, string][] {
  const raw = controller?.rawHeaders
  return Array.isArray(raw) ? pairsFromRaw(raw) : pairsFromObject(headers)
}

/** Calls `dispatch`, turning a synchronous throw into the handler's error, as undici itself does. */
function send(dispatch: Dispatcher['dispatch'], opts: Dispatcher.DispatchOptions, handler: UpstreamHandler): void {
  try {
    dispatch(opts, handler as unknown as Dispatcher.DispatchHandler)
  } catch (error) {
    handler.onError(error instanceof Error ? error : new Error(String(error)))
  }
}

/**
 * Sends a request the cache stays out of (a pass-through): every callback goes to the caller's
 * handler, in the caller's style, including upgrades (WebSocket, CONNECT).
 */
export function relay(dispatch: Dispatcher['dispatch'], opts: Dispatcher.DispatchOptions, sink: Sink, caller: AnyHandler): void {
  const controller = sink.controller
  let control: Control | undefined
  controller.onAbort((reason) => control?.abort(reason))
  send(
    dispatch,
    opts,
    new UpstreamHandler({
      start(started) {
        control = started
        sink.start()
        if (controller.aborted) started.abort(controller.reason as Error)
      },
      headers: (statusCode, headers, statusText) => sink.responseStart(statusCode, headers, statusText),
      info: (statusCode, headers, statusText) => sink.info(statusCode, headers, statusText),
      data: (chunk) => sink.data(chunk),
      end: (trailers) => sink.end(trailers),
      error: (error) => sink.error(error),
      upgrade(statusCode, headers, socket, upstreamController) {
        if (typeof caller.onRequestUpgrade === 'function') {
          caller.onRequestUpgrade(upstreamController ?? controller, statusCode, headerObject(headers), socket)
        } else {
          caller.onUpgrade?.(statusCode, rawPairs(headers), socket)
        }
      },
      extras: caller,
    }),
  )
  // Resume the origin when the caller resumes.
  const resume = controller.resume.bind(controller)
  controller.resume = () => {
    resume()
    control?.resume()
  }
  const pause = controller.pause.bind(controller)
  controller.pause = () => {
    pause()
    control?.pause()
  }
}

/**
 * Sends a request to the origin for the exchange: resolves with the response head once it arrives,
 * its body a stream that pauses the origin while nobody reads (back-pressure), rejects with the
 * origin's own error. `signal` aborts it. `caller`: the caller's handler for the progress callbacks,
 * and its sink for interim (1xx) responses, which go to the caller as they would without the cache.
 */
export function forward(
  dispatch: Dispatcher['dispatch'],
  opts: Dispatcher.DispatchOptions,
  url: string,
  signal: AbortSignal | undefined,
  caller: { handler: AnyHandler; sink: Sink } | undefined,
): Promise<OriginResponse> {
  return new Promise<OriginResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    let control: Control | undefined
    let history: readonly URL[] | undefined
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined
    let bodyless = false
    let ended = false
    let answered = false
    const trailers: [string, string][] = []
    const onAbort = () => control?.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = () => {
      ended = true
      signal?.removeEventListener('abort', onAbort)
    }
    send(
      dispatch,
      opts,
      new UpstreamHandler({
        start(started, redirects) {
          control = started
          history = redirects
          if (signal?.aborted) started.abort(signal.reason)
        },
        headers(statusCode, headers, statusText) {
          bodyless = isBodiless(statusCode, opts.method)
          const body = new ReadableStream<Uint8Array>(
            {
              start(controller) {
                stream = controller
              },
              pull() {
                control?.resume()
              },
              cancel(reason) {
                // A response with no body to speak of ends by itself; anything else would keep
                // downloading for nobody, so the origin request is aborted.
                if (!ended && !bodyless) control?.abort(reason instanceof Error ? reason : new Error(String(reason)))
                stream = undefined
              },
            },
            { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
          )
          answered = true
          // A redirect handler below pushes each response's URL before passing on the last one: more
          // than one means redirects were followed, and this answers another URL (stored apart, as
          // fetch's followed redirects are: engine/exchange.ts).
          const last = history && history.length > 1 ? history[history.length - 1] : undefined
          resolve({
            status: statusCode,
            statusText,
            headers: headersOfLines(headers),
            body,
            decoded: false,
            url: last ? String(last) : url,
            redirected: last !== undefined,
            trailers,
          })
          return true
        },
        data(chunk) {
          if (!stream) return true
          stream.enqueue(chunk)
          return (stream.desiredSize ?? 1) > 0
        },
        end(received) {
          trailers.push(...received)
          finish()
          if (!answered) reject(new Error('the origin ended the request without a response'))
          stream?.close()
          stream = undefined
        },
        error(error) {
          finish()
          if (!answered) reject(error)
          stream?.error(error)
          stream = undefined
        },
        info(statusCode, headers, statusText) {
          caller?.sink.info(statusCode, headers, statusText)
        },
        upgrade() {
          finish()
          reject(new Error('unexpected protocol upgrade'))
        },
        ...(caller ? { extras: caller.handler } : {}),
      }),
    )
  })
}
