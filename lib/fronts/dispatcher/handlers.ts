/**
 * The two undici handler APIs, seen from the caller's side. undici 6 (Node 22's bundled copy) calls
 * `onConnect / onHeaders / onData / onComplete / onError`; undici 8 (Node 26's) calls
 * `onRequestStart / onResponseStart / onResponseData / onResponseEnd / onResponseError` with a
 * controller; undici 7 accepts either. A caller's handler is turned into one `Sink` here, so the
 * dispatcher front speaks to every caller in its own style and always ends it with exactly one
 * terminal callback (lib/README.md, "Any undici").
 */

/** Header fields as pairs, lower-case names, in the order served. */
export type HeaderPairs = readonly (readonly [string, string])[]

/** The callbacks of both APIs, all optional: which ones exist decides the style. */
export interface AnyHandler {
  // legacy (undici ≤ 7)
  onConnect?(abort: (reason?: Error) => void, context?: object): void
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean | undefined
  onData?(chunk: Buffer): boolean | undefined
  onComplete?(rawTrailers: Buffer[] | null): void
  onError?(error: Error): void
  onUpgrade?(statusCode: number, rawHeaders: Buffer[], socket: unknown): void
  onBodySent?(chunk: unknown): void
  onRequestSent?(): void
  onResponseStarted?(): void
  // new (undici ≥ 7)
  onRequestStart?(controller: unknown, context: unknown): void
  onRequestUpgrade?(controller: unknown, statusCode: number, headers: unknown, socket: unknown): void
  onResponseStart?(controller: unknown, statusCode: number, headers: Record<string, string | string[]>, statusText?: string): void
  onResponseData?(controller: unknown, chunk: Buffer): void
  onResponseEnd?(controller: unknown, trailers: Record<string, string | string[]>): void
  onResponseError?(controller: unknown, error: Error): void
}

/** Whether a handler speaks the new API (undici 7's own test: it has `onRequestStart`). */
function isNewStyle(handler: AnyHandler): boolean {
  return typeof handler.onRequestStart === 'function'
}

/**
 * The controller a caller gets (new API) or drives through `abort` / `resume` (legacy): `rawHeaders`
 * and `rawTrailers` match the fields served, which undici 8's fetch reads before anything else.
 */
class CallerController {
  #aborted = false
  #paused = false
  #reason: Error | null = null
  #onAbort: ((reason: Error) => void) | undefined
  #waiting: (() => void) | undefined
  rawHeaders: Buffer[] | undefined
  rawTrailers: Buffer[] | undefined

  get aborted(): boolean {
    return this.#aborted
  }
  get paused(): boolean {
    return this.#paused
  }
  get reason(): Error | null {
    return this.#reason
  }

  /** What aborting does (stop serving, abort the origin request); set by the front. */
  onAbort(listener: (reason: Error) => void): void {
    this.#onAbort = listener
  }

  abort(reason?: Error): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason ?? abortError()
    this.#wake()
    this.#onAbort?.(this.#reason)
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#wake()
  }

  /** Resolves once the caller resumes (or aborts). */
  resumed(): Promise<void> {
    if (!this.#paused || this.#aborted) return Promise.resolve()
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  #wake(): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.()
  }
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError')
}

/**
 * The caller's handler in one shape. `data` and `responseStart` return `false` when the caller asked
 * to pause (legacy: returned `false`; new: called `controller.pause()`). After `end` or `error`
 * nothing more is delivered.
 */
export class Sink {
  readonly controller = new CallerController()
  readonly #handler: AnyHandler
  readonly #newStyle: boolean
  #done = false
  #started = false
  #responded = false

  constructor(handler: AnyHandler) {
    this.#handler = handler
    this.#newStyle = isNewStyle(handler)
  }

  /** Whether a terminal callback was delivered. */
  get done(): boolean {
    return this.#done
  }

  start(): void {
    if (this.#started || this.#done) return
    this.#started = true
    const controller = this.controller
    try {
      if (this.#newStyle) this.#handler.onRequestStart?.(controller, {})
      else this.#handler.onConnect?.((reason) => controller.abort(reason), {})
    } catch (error) {
      this.#threw(error)
    }
  }

  /**
   * An interim (1xx) response from the origin, in the caller's style (undici's request() hands it to
   * `onInfo`). Only before the final response: a background revalidation's 1xx is nobody's.
   */
  info(statusCode: number, headers: HeaderPairs, statusText: string): void {
    if (this.#done || this.#responded || !this.#started) return
    const controller = this.controller
    controller.rawHeaders = rawPairs(headers)
    try {
      if (this.#newStyle) this.#handler.onResponseStart?.(controller, statusCode, headerObject(headers), statusText)
      else this.#handler.onHeaders?.(statusCode, controller.rawHeaders, () => controller.resume(), statusText)
    } catch (error) {
      this.#threw(error)
    }
  }

  responseStart(statusCode: number, headers: HeaderPairs, statusText: string): boolean {
    if (this.#done) return false
    this.#responded = true
    const controller = this.controller
    controller.rawHeaders = rawPairs(headers)
    try {
      if (this.#newStyle) {
        this.#handler.onResponseStart?.(controller, statusCode, headerObject(headers), statusText)
        return !controller.paused
      }
      const more = this.#handler.onHeaders?.(statusCode, controller.rawHeaders, () => controller.resume(), statusText)
      if (more === false) controller.pause()
      return more !== false
    } catch (error) {
      this.#threw(error)
      return false
    }
  }

  data(chunk: Buffer): boolean {
    if (this.#done) return false
    const controller = this.controller
    try {
      if (this.#newStyle) {
        this.#handler.onResponseData?.(controller, chunk)
        return !controller.paused
      }
      const more = this.#handler.onData?.(chunk)
      if (more === false) controller.pause()
      return more !== false
    } catch (error) {
      this.#threw(error)
      return false
    }
  }

  /** Ends the response, with the origin's trailer fields when it sent any. */
  end(trailers: HeaderPairs = []): void {
    if (this.#done) return
    this.#done = true
    const controller = this.controller
    controller.rawTrailers = rawPairs(trailers)
    try {
      if (this.#newStyle) this.#handler.onResponseEnd?.(controller, headerObject(trailers))
      else this.#handler.onComplete?.(controller.rawTrailers)
    } catch (error) {
      // undici hands a throw from the end callback back as the request's error: undici's retry
      // handler ends a response it will retry that way, and waits for the error to retry.
      this.#tell(error)
    }
  }

  /** Delivers an error (once). A handler without an error callback gets it thrown, as undici does. */
  error(error: Error): void {
    if (this.#done) return
    this.#done = true
    this.#deliver(error)
  }

  #deliver(error: Error): void {
    if (this.#newStyle) {
      if (typeof this.#handler.onResponseError !== 'function') throw error
      this.#handler.onResponseError(this.controller, error)
    } else {
      if (typeof this.#handler.onError !== 'function') throw error
      this.#handler.onError(error)
    }
  }

  /**
   * A callback threw (undici's dump interceptor does past its size limit, a stream() factory may): as
   * undici does, the request is aborted with that error, which the handler is told, never thrown
   * where nothing catches it (a hit is served from a microtask).
   */
  #threw(error: unknown): void {
    this.#done = true
    this.#tell(error)
    this.controller.abort(asError(error))
  }

  /** Delivers what a callback threw; a handler whose error callback throws too has been told all it can be. */
  #tell(error: unknown): void {
    try {
      this.#deliver(asError(error))
    } catch {}
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** Header pairs as the flat `[name, value, …]` Buffer list undici hands to callers. */
export function rawPairs(headers: HeaderPairs): Buffer[] {
  const raw: Buffer[] = []
  for (const [name, value] of headers) raw.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'))
  return raw
}

/**
 * Header pairs as the object the new API passes: repeated fields become arrays. Prototype-less, as
 * undici's own, so a field named `constructor` or `__proto__` is a field like any other.
 */
export function headerObject(headers: HeaderPairs): Record<string, string | string[]> {
  const object: Record<string, string | string[]> = Object.create(null)
  for (const [name, value] of headers) {
    const existing = object[name]
    if (existing === undefined) object[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else object[name] = [existing, value]
  }
  return object
}

/** A flat raw list (Buffers or strings, as undici's legacy API gives) as lower-case pairs. */
export function pairsFromRaw(raw: readonly (Buffer | string | readonly (Buffer | string)[])[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase()
    const value = raw[i + 1]
    if (Array.isArray(value)) for (const v of value) pairs.push([name, latin1(v)])
    else pairs.push([name, latin1(value as Buffer | string)])
  }
  return pairs
}

/** A headers object (the new API's) as lower-case pairs. */
export function pairsFromObject(
  headers: Record<string, string | string[] | number | undefined> | null | undefined,
): [string, string][] {
  const pairs: [string, string][] = []
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (Array.isArray(value)) for (const v of value) pairs.push([lower, String(v)])
    else pairs.push([lower, String(value)])
  }
  return pairs
}

function latin1(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1')
}
