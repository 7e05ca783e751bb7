import { AsyncLocalStorage } from 'node:async_hooks'
import type { Agent, ClientRequest, IncomingMessage } from 'node:http'
import type { Engine } from '../../engine/engine.js'
import { exchange } from '../../engine/exchange.js'
import type { OriginResponse, Outcome } from '../../engine/outcome.js'
import { realTimers } from '../../engine/timers.js'
import { isPromise } from '../../entry/store.js'
import { isFetchCacheError } from '../../errors.js'
import { attachCacheInfo, type CacheInfo } from '../../observe/cache-info.js'
import type { CacheRequest } from '../../request/cache-request.js'
import { type ConnectTarget, OPTIONS_HEADER, requestFromClientRequest } from '../../request/from-client-request.js'
import { agentOf, type ClientAgent, withAgent } from './agent.js'
import { type Served, servedMessage, servedOutcome, servedSocket, setFields } from './message.js'
import { drain, ownResponse, removeField, sharedResponse } from './origin-response.js'
import { ServedSocket } from './served-socket.js'
import { answerAsTls } from './served-tls.js'

/**
 * The node:http front (lib/README.md, "The node:http front"): `http.request()` and friends, whatever
 * client calls them. The caller's agent is asked for a connection only once the cache knows it needs
 * the origin, so a hit opens none; a miss leaves through that agent as it would without the cache.
 * The exchange decides; this module turns its outcomes into the request's own events.
 */

/** `http.request` or `https.request`, as found. */
export type RequestFunction = (...args: unknown[]) => ClientRequest

export interface NodeHttpFrontDeps {
  /** The engine for this request, or `undefined` when caching is off for it. */
  engine(): Engine | undefined
}

/**
 * `request` with the cache in front. Requests it cannot key the way Node will send them (a Unix
 * socket, a `createConnection` of their own without an agent) pass as they are.
 */
export function cachedRequest(original: RequestFunction, defaultAgent: () => Agent, deps: NodeHttpFrontDeps): RequestFunction {
  return function request(this: unknown, ...args: unknown[]): ClientRequest {
    const engine = deps.engine()
    const found = engine ? agentOf(args, defaultAgent) : undefined
    if (!engine || !found) return Reflect.apply(original, this, args) as ClientRequest
    const call = new Call(
      engine,
      found.agent,
      (agent, own) => Reflect.apply(original, this, withAgent(args, found, agent, own)) as ClientRequest,
    )
    return call.start()
  }
}

/** `get` over a cached `request`: Node's own `get` calls the module's inner `request`, not the export. */
export function cachedGet(request: RequestFunction): RequestFunction {
  return function get(this: unknown, ...args: unknown[]): ClientRequest {
    const req = Reflect.apply(request, this, args) as ClientRequest
    req.end()
    return req
  }
}

type Emit = (event: string | symbol, ...args: unknown[]) => boolean

/**
 * Fields that make a request something other than one request and its answer, or fields the cache
 * cannot read: it passes untouched. `headers` given as a raw array are rendered by Node in the
 * constructor and never reach `getHeaders()`: keyed without them (an Authorization, say), the request
 * could be served another caller's entry.
 */
function passesUntouched(req: ClientRequest): boolean {
  return req.headersSent || req.method === 'CONNECT' || req.hasHeader('upgrade') || req.hasHeader('expect')
}

/** One `node:http` request the cache takes part in. */
class Call {
  readonly #engine: Engine
  /** The caller's agent, asked for a connection only when the origin is needed. */
  readonly #agent: ClientAgent
  readonly #create: (agent: Agent, own: boolean) => ClientRequest
  #req!: ClientRequest
  #target: ConnectTarget = {}
  #endArgs: unknown[] | undefined
  #body: string | Uint8Array | undefined | null
  /** The caller's request went to its agent (it can carry one origin request, the first). */
  #sent = false
  /** The request is answered or failed: later results are dropped. */
  #settled = false
  #awaiting: { resolve(response: OriginResponse): void; reject(error: unknown): void } | undefined
  /** The error the caller's connection failed with, held while the exchange decides what to answer. */
  #heldError: Error | undefined
  /** The caller destroyed its request on its way to the origin (its abort, its timeout, its signal). */
  #destroyedByCaller = false
  /** A check is due of whether the caller waits for its socket before ending the request. */
  #socketWatch = false
  /** The origin's own answer on the caller's connection, and the fields it was handed over with. */
  #response: IncomingMessage | undefined
  #responseHeaders: Headers | undefined
  #holdClose = false
  #closeHeld = false
  #info: { info: CacheInfo; url: string } | undefined
  /** The message Node parsed from the served socket, once it has it. */
  #served: IncomingMessage | undefined
  #emit!: Emit
  #request: CacheRequest | undefined
  /** Runs a function in the async context the caller's request was constructed in. */
  #madeIn: (<R>(fn: () => R) => R) | undefined
  /** The caller's header fields as it made the request (before any conditions), for a replay. */
  #fields: [string, string | string[] | number][] = []

  constructor(engine: Engine, agent: ClientAgent, create: (agent: Agent, own: boolean) => ClientRequest) {
    this.#engine = engine
    this.#agent = agent
    this.#create = create
  }

  /** Creates the caller's request with an agent that waits for the cache's decision. */
  start(): ClientRequest {
    const waiting = Object.create(this.#agent) as ClientAgent
    waiting.addRequest = (req, target) => this.#attach(req, target)
    return this.#create(waiting, true)
  }

  #attach(req: ClientRequest, target: ConnectTarget): void {
    this.#req = req
    this.#target = target
    this.#madeIn = AsyncLocalStorage.snapshot()
    if (passesUntouched(req)) {
      if (!req.headersSent) req.removeHeader(OPTIONS_HEADER)
      this.#sent = true
      this.#agent.addRequest(req, target)
      return
    }
    if (req.destroyed) {
      // Destroyed in its constructor (an AbortSignal already aborted): Node ends it once it has a socket.
      this.#giveSocket(new ServedSocket())
      return
    }
    const call = this
    const proto = Object.getPrototypeOf(req) as ClientRequest
    this.#emit = proto.emit
    // The request's first write, end or flush is where the cache decides; its own methods come back then.
    req.write = function write(this: ClientRequest, ...args: unknown[]) {
      call.#begin(undefined)
      return Reflect.apply(proto.write, this, args) as boolean
    } as ClientRequest['write']
    req.flushHeaders = function flushHeaders(this: ClientRequest) {
      call.#begin(undefined)
      proto.flushHeaders.call(this)
    }
    req.end = function end(this: ClientRequest, ...args: unknown[]) {
      call.#begin(args)
      return this
    } as ClientRequest['end']
    req.destroy = function destroy(this: ClientRequest, error?: Error) {
      call.#destroying()
      proto.destroy.call(this, error)
      // Not given to an agent yet: Node ends it as it ends any request destroyed before its socket.
      if (!call.#sent && !call.#settled) call.#giveSocket(new ServedSocket())
      return this
    }
    req.abort = function abort(this: ClientRequest) {
      // Its socket before Node queues `abort`, as an agent gives one in the constructor: `close` comes first.
      if (!call.#sent && !call.#settled && !this.destroyed) call.#giveSocket(new ServedSocket())
      proto.abort.call(this)
    }
    req.emit = function emit(this: ClientRequest, event: string | symbol, ...args: unknown[]) {
      return call.#onEvent(event, args)
    }
    req.on('newListener', this.#onListener)
  }

  /**
   * Node gives a request its socket at once (on the next tick): a caller may wait for `socket` (or its
   * `connect`) before it ends the request. One that listens for it and has not ended the request a
   * turn of the event loop later gets a real connection, uncached: the request is bound to that
   * connection from then on, as the caller watches it.
   */
  readonly #onListener = (event: string | symbol): void => {
    if (event !== 'socket' || this.#socketWatch) return
    this.#socketWatch = true
    realTimers.setImmediate(() => {
      if (this.#decided || this.#settled || this.#req.destroyed) return
      this.#decide()
      this.#release()
      this.#req.removeHeader(OPTIONS_HEADER)
      this.#endArgs = undefined
      this.#handOff()
    })
  }

  /** The decision was taken (or given up): the request's own methods come back. */
  #decided = false

  #decide(): void {
    const req = this.#req
    // The prototype's methods back as own properties, not deleted: deleting turns the request into a
    // dictionary-mode object, and every later property access of Node's own code on it gets slower.
    const proto = Object.getPrototypeOf(req) as ClientRequest
    req.write = proto.write
    req.end = proto.end
    req.flushHeaders = proto.flushHeaders
    req.removeListener('newListener', this.#onListener)
    this.#decided = true
  }

  /**
   * The caller destroys its request. On its way to the origin, what follows reaches the caller as
   * without the cache (its own abort or timeout is not a failure to cover with a stored answer); an
   * error the exchange already holds (the connection failed, then the caller destroyed the request
   * in its socket's `error`, as axios does) is given to the caller instead of an answer.
   */
  #destroying(): void {
    if (!this.#sent || this.#settled) return
    this.#destroyedByCaller = true
    if (this.#awaiting) return // the request's own error or close follows: see #onEvent
    this.#settled = true
    // Its `close` may come first (a socket emits `error` and `close` together): held until then.
    process.nextTick(() => {
      this.#release()
      if (this.#heldError) this.#emit.call(this.#req, 'error', this.#heldError)
      this.#letClose()
    })
  }

  /** The caller is done writing (`endArgs`), or streams a body (`undefined`): decide. */
  #begin(endArgs: unknown[] | undefined): void {
    const req = this.#req
    const proto = Object.getPrototypeOf(req) as ClientRequest
    this.#decide()
    this.#endArgs = endArgs
    if (req.destroyed) {
      // Destroyed before it was ended (it has its socket, see destroy): nothing to ask anyone.
      this.#release()
      if (endArgs) Reflect.apply(proto.end, req, endArgs)
      return
    }
    if (passesUntouched(req)) {
      req.removeHeader(OPTIONS_HEADER)
      this.#release()
      this.#handOff()
      return
    }
    const chunk = endArgs?.[0]
    this.#body = endArgs === undefined ? null : typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : undefined
    if (endArgs !== undefined && typeof chunk === 'string' && typeof endArgs[1] === 'string' && endArgs[1] !== 'utf8')
      this.#body = Buffer.from(chunk, endArgs[1] as BufferEncoding)
    let request: CacheRequest
    try {
      request = requestFromClientRequest(req, this.#target, this.#body, this.#engine.settings.ignored)
    } catch (error) {
      if (isFetchCacheError(error)) {
        // A bad options header: the caller's mistake, said as this request's error.
        req.removeHeader(OPTIONS_HEADER)
        this.#fail(error)
        return
      }
      this.#engine.report(error, 'key')
      req.removeHeader(OPTIONS_HEADER)
      this.#release()
      this.#handOff()
      return
    }
    req.removeHeader(OPTIONS_HEADER)
    this.#request = request
    for (const name of req.getHeaderNames()) this.#fields.push([name, req.getHeader(name) as string | string[] | number])
    let outcome: ReturnType<typeof exchange>
    try {
      outcome = exchange(this.#engine, request, (conditional, signal, background) =>
        this.#forward(conditional, signal, background),
      )
    } catch (error) {
      this.#fail(error)
      return
    }
    // The caller's listeners run outside the promise: what they throw is an uncaught exception, as
    // without the cache, not an unhandled rejection.
    if (isPromise(outcome))
      outcome.then(
        (done) => queueMicrotask(() => this.#render(done)),
        (error: unknown) => queueMicrotask(() => this.#fail(error)),
      )
    else this.#render(outcome)
  }

  /**
   * Gives the request to the caller's agent, as Node would have at once, and lets its end through. The
   * connection is asked for in the async context the request was made in: a wrapper around
   * `http.request` (msw's interceptors) ties the socket to its request through that context.
   */
  #handOff(): void {
    this.#sent = true
    const ask = () => this.#agent.addRequest(this.#req, this.#target)
    if (this.#madeIn) this.#madeIn(ask)
    else ask()
    const endArgs = this.#endArgs
    if (endArgs) Reflect.apply(Object.getPrototypeOf(this.#req).end, this.#req, endArgs)
  }

  /** Stops listening to the request: what follows is between it and its connection. */
  #release(): void {
    const proto = Object.getPrototypeOf(this.#req) as ClientRequest
    this.#req.emit = proto.emit
    this.#req.destroy = proto.destroy
    this.#req.abort = proto.abort
  }

  #forward(
    conditional: Record<string, string> | undefined,
    signal: AbortSignal | undefined,
    background: boolean,
  ): Promise<OriginResponse> {
    // The caller's request carries one origin request, the first one made for its answer.
    if (this.#sent || this.#settled || background) return this.#replay(conditional, signal)
    const req = this.#req
    if (req.destroyed) return Promise.reject(new Error('request destroyed'))
    if (conditional && !req.headersSent) for (const name in conditional) req.setHeader(name, conditional[name] as string)
    this.#holdClose = true
    const answer = new Promise<OriginResponse>((resolve, reject) => {
      this.#awaiting = { resolve, reject }
    })
    this.#handOff()
    return answer
  }

  /**
   * A second origin request for one caller (a retry without conditions, a background refresh): the
   * caller's request went already, so a new one is made from the same arguments, through the same
   * agent, with the same header fields and body.
   */
  #replay(conditional: Record<string, string> | undefined, signal: AbortSignal | undefined): Promise<OriginResponse> {
    const again = this.#create(this.#agent, false)
    for (const name of again.getHeaderNames()) again.removeHeader(name)
    for (const [name, value] of this.#fields) again.setHeader(name, value)
    if (conditional) for (const name in conditional) again.setHeader(name, conditional[name] as string)
    const url = this.#request?.url ?? ''
    return new Promise<OriginResponse>((resolve, reject) => {
      const onAbort = () => again.destroy(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      again.once('response', (res: IncomingMessage) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(ownResponse(res, url, this.#request?.method ?? 'GET'))
      })
      // An error after the answer (the connection lost mid-body) reaches the body's reader through `res`.
      again.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort)
        reject(error)
      })
      again.end(this.#body ?? undefined)
    })
  }

  #onEvent(event: string | symbol, args: unknown[]): boolean {
    const req = this.#req
    const awaiting = this.#awaiting
    if (awaiting && event === 'response') {
      this.#awaiting = undefined
      const res = args[0] as IncomingMessage
      const response = sharedResponse(res, this.#request?.url ?? '', req.method, this.#engine.settings.maxEntrySize)
      this.#response = res
      this.#responseHeaders = response.headers
      awaiting.resolve(response)
      return true
    }
    if (awaiting && event === 'error') {
      this.#awaiting = undefined
      if (this.#destroyedByCaller) {
        // The caller's own abort or timeout: its error, as without the cache, and no stored answer.
        this.#settled = true
        this.#holdClose = false
        this.#release()
        awaiting.reject(args[0])
        return this.#emit.call(req, event, ...args)
      }
      this.#heldError = args[0] as Error
      awaiting.reject(args[0])
      return true
    }
    if (awaiting && event === 'close') {
      // Closed with neither an answer nor an error (abort() before its socket: Node emits none):
      // no answer is coming, and the caller is told nothing more than it would be without the cache.
      this.#awaiting = undefined
      this.#settled = true
      this.#holdClose = false
      this.#release()
      awaiting.reject(new Error('request aborted'))
    }
    if (event === 'close' && this.#holdClose) {
      this.#closeHeld = true
      return true
    }
    if (event === 'response' && this.#info) {
      const res = args[0] as IncomingMessage
      // The served socket's own `connection: close` is not part of the stored response.
      removeField(res, 'connection')
      attachCacheInfo(res, this.#info.info, this.#info.url)
      this.#served = res
    }
    return this.#emit.call(req, event, ...args)
  }

  /** Lets a held `close` through once the caller has its answer. */
  #letClose(): void {
    this.#holdClose = false
    if (this.#closeHeld) {
      this.#closeHeld = false
      this.#emit.call(this.#req, 'close')
    }
  }

  #fail(error: unknown): void {
    if (this.#settled) return
    this.#settled = true
    const req = this.#req
    const failure = error instanceof Error ? error : new Error(String(error))
    if (this.#sent) {
      // The connection failed (or was aborted): the caller learns it as Node would have told it.
      this.#emit.call(req, 'error', failure)
      this.#letClose()
      this.#release()
      return
    }
    Object.getPrototypeOf(req).destroy.call(req, failure)
    this.#giveSocket(new ServedSocket())
  }

  #giveSocket(socket: ServedSocket): void {
    this.#settled = true
    // An https request's socket is a TLS one: code that reads its certificate must not throw.
    if (this.#req.protocol === 'https:') answerAsTls(socket)
    this.#req.onSocket(socket as never)
  }

  #render(outcome: Outcome): void {
    if (this.#settled || (this.#req.destroyed && !this.#sent)) {
      if (outcome.kind === 'origin') void outcome.response.body?.cancel().catch(() => {})
      return
    }
    if (outcome.kind === 'origin' && this.#response && outcome.response.headers === this.#responseHeaders) {
      this.#passOwn(this.#response, outcome)
      return
    }
    const { served, url } = servedOutcome(outcome, this.#request?.method ?? 'GET')
    this.#serve(served, outcome.info, url)
  }

  /** The origin's answer on the caller's own connection goes to the caller as it is, with Cache-Status. */
  #passOwn(res: IncomingMessage, outcome: Extract<Outcome, { kind: 'origin' }>): void {
    this.#settled = true
    // rfc: the origin's field lines kept in their order, ours last (RFC 9211 §2).
    res.rawHeaders.push('cache-status', outcome.cacheStatus)
    setFields(res)
    attachCacheInfo(res, outcome.info, outcome.response.url)
    // The recording reads the body as it arrives (the caller's reads pace it); nobody else reads this copy.
    void drain(outcome.response.body)
    this.#release()
    this.#holdClose = false
    this.#emit.call(this.#req, 'response', res)
    if (this.#closeHeld) this.#emit.call(this.#req, 'close')
  }

  /** An answer the cache makes: through a socket of its own when none was asked for, else as a message. */
  #serve(served: Served, info: CacheInfo, url: string): void {
    const req = this.#req
    if (!this.#sent) {
      this.#info = { info, url }
      // A body that fails (the origin's cut short, a SlowReaderError) fails the message with its error.
      this.#giveSocket(servedSocket(served, (error) => this.#served?.destroy(error)))
      const endArgs = this.#endArgs
      if (endArgs) Reflect.apply(Object.getPrototypeOf(req).end, req, endArgs)
      return
    }
    this.#settled = true
    // The connection carried a 304 (or a failure the cache covers): the caller gets the stored answer.
    this.#response?.resume()
    const message = servedMessage(served)
    if (req.protocol === 'https:') answerAsTls(message.socket as unknown as ServedSocket)
    attachCacheInfo(message, info, url)
    Object.assign(message, { req })
    message.once('end', () => this.#letClose())
    message.once('close', () => this.#letClose())
    this.#release()
    this.#emit.call(req, 'response', message)
  }
}
