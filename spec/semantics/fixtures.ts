import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { afterEach } from 'node:test'
import type { CacheEntry } from '../../lib/entry/entry.js'
import type { Cache } from '../../lib/inspect/cache.js'
import type { StoredResponse } from '../../lib/inspect/query.js'
import { type CachedFetch, createCachedFetchWithClock } from '../../lib/install/session.js'
import type { CacheOptions } from '../../lib/options/types.js'
import type { CacheFront, FrontKind, FrontResponse } from '../helpers/fronts.js'
import { type Origin, type Route, startOrigin, tempDir } from '../helpers/origin.js'

/** A clock the tests move by hand: the session's policy time, never the wall clock. */
export interface Clock {
  now(): number
  advance(ms: number): void
}

/** Starts on a whole second, so `Date` headers (whole seconds) add no apparent age. */
export function manualClock(start = Math.floor(Date.now() / 1000) * 1000): Clock {
  let time = start
  return {
    now: () => time,
    advance: (ms) => {
      time += ms
    },
  }
}

/** A session on a real SQLite file in a temp dir (unless `options.backend` says otherwise), a counting origin and a clock. */
export interface Setup {
  origin: Origin
  clock: Clock
  dir: string
  cachedFetch: CachedFetch
  /** `origin.url + path` */
  url(path: string): string
  /** Another session on the same options and clock (same SQLite file). */
  reopen(options?: CacheOptions): CachedFetch
  close(): Promise<void>
}

export async function setup(options: CacheOptions = {}, routes: Record<string, Route> = {}): Promise<Setup> {
  const origin = await startOrigin(routes)
  const clock = manualClock()
  const { dir, cleanup } = await tempDir()
  // A SQLite file (or a files directory) in the temp directory, unless another backend is asked for
  // (cacheName would be refused then).
  const onDisk = options.backend === undefined || options.backend === 'sqlite' || options.backend === 'files'
  const base: CacheOptions = onDisk ? { cacheName: join(dir, 'cache'), ...options } : options
  const sessions: CachedFetch[] = []
  const open = (extra: CacheOptions = {}) => {
    const session = createCachedFetchWithClock({ ...base, ...extra }, clock.now)
    sessions.push(session)
    return session
  }
  const cachedFetch = open()
  return {
    origin,
    clock,
    dir,
    cachedFetch,
    url: (path) => origin.url + path,
    reopen: open,
    close: async () => {
      for (const session of sessions) await session.cache.close()
      await origin.close()
      await cleanup()
    },
  }
}

/** Like {@link Setup}, with the cache reached through one front (fetch or dispatcher). */
export interface FrontSetup {
  origin: Origin
  clock: Clock
  dir: string
  front: CacheFront
  /** `origin.url + path` */
  url(path: string): string
  /** Another cache on the same options and clock (same SQLite file), through the same front. */
  reopen(options?: CacheOptions): CacheFront
  close(): Promise<void>
}

export async function setupFront(
  kind: FrontKind,
  options: CacheOptions = {},
  routes: Record<string, Route> = {},
): Promise<FrontSetup> {
  const origin = await startOrigin(routes)
  const clock = manualClock()
  const { dir, cleanup } = await tempDir()
  // A SQLite file (or a files directory) in the temp directory, unless another backend is asked for
  // (cacheName would be refused then).
  const onDisk = options.backend === undefined || options.backend === 'sqlite' || options.backend === 'files'
  const base: CacheOptions = onDisk ? { cacheName: join(dir, 'cache'), ...options } : options
  const fronts: CacheFront[] = []
  const open = (extra: CacheOptions = {}) => {
    const front = kind.open({ ...base, ...extra }, clock.now)
    fronts.push(front)
    return front
  }
  const front = open()
  return {
    origin,
    clock,
    dir,
    front,
    url: (path) => origin.url + path,
    reopen: open,
    close: async () => {
      // The origin first: its connections closed, no request a failed test left waiting holds a front open.
      await origin.close()
      for (const opened of fronts) await opened.close()
      await cleanup()
    },
  }
}

/** A `start()` for one test file: each test's setup (cache and origin) is closed after the test. */
export function startPerTest(): (options?: CacheOptions, routes?: Record<string, Route>) => Promise<Setup> {
  return perTest(setup)
}

/** A `start()` for one suite, on one front: each test's setup is closed after the test. */
export function startPerTestOn(kind: FrontKind): (options?: CacheOptions, routes?: Record<string, Route>) => Promise<FrontSetup> {
  return perTest((options, routes) => setupFront(kind, options, routes))
}

function perTest<T extends { close(): Promise<void> }>(
  open: (options?: CacheOptions, routes?: Record<string, Route>) => Promise<T>,
): (options?: CacheOptions, routes?: Record<string, Route>) => Promise<T> {
  let current: T | undefined
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  return async (options, routes) => {
    current = await open(options, routes)
    return current
  }
}

/** Reads a response's text. */
export async function read(response: Response): Promise<string> {
  return response.text()
}

/** A route answering with a fixed body and headers, setting `Date` from `clock` so age math follows it. */
export function route(
  body: string | ((n: number) => string),
  headers: Record<string, string> = {},
  clock?: Clock,
  status = 200,
): Route {
  let n = 0
  return (_req: IncomingMessage, res: ServerResponse) => {
    n++
    res.statusCode = status
    if (clock) res.setHeader('date', new Date(clock.now()).toUTCString())
    res.setHeader('content-type', 'text/plain')
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    res.end(typeof body === 'function' ? body(n) : body)
  }
}

/**
 * A route with a validator: `ETag: "<version>"` (and `Last-Modified` when asked), answering 304 to a
 * matching `If-None-Match` / `If-Modified-Since`. `version()` can change to simulate a new resource.
 */
export function validatedRoute(
  options: {
    etag?: boolean
    lastModified?: string
    headers?: Record<string, string>
    clock?: Clock
    version?: () => string
  } = {},
): Route {
  const { etag = true, lastModified, headers = {}, clock, version = () => 'v1' } = options
  return (req: IncomingMessage, res: ServerResponse) => {
    const current = version()
    if (clock) res.setHeader('date', new Date(clock.now()).toUTCString())
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    if (etag) res.setHeader('etag', `"${current}"`)
    if (lastModified) res.setHeader('last-modified', lastModified)
    const matches =
      (etag && req.headers['if-none-match'] === `"${current}"`) ||
      (!etag && lastModified && req.headers['if-modified-since'] === lastModified)
    if (matches) {
      res.statusCode = 304
      res.end()
      return
    }
    res.setHeader('content-type', 'text/plain')
    res.end(`body ${current}`)
  }
}

/** The `Cache-Status` of a response, or fail. */
export function status(response: Response | FrontResponse): string {
  const value = response instanceof Response ? response.headers.get('cache-status') : response.cacheStatus
  if (value === null) throw new Error(`no Cache-Status on ${response instanceof Response ? response.url : 'the response'}`)
  return value
}

/**
 * The test timeout this run was given (`--test-timeout`, as `npm test` passes it), or 90 s: a wait
 * bounded by it fails with its own message before the runner cancels the test, on any machine.
 */
export const TEST_TIMEOUT_MS: number = (() => {
  const flag = process.execArgv.findLast((arg) => arg.startsWith('--test-timeout='))
  const ms = Number(flag?.slice('--test-timeout='.length))
  return Number.isFinite(ms) && ms > 0 ? ms : 90_000
})()

/**
 * Waits until `condition` holds, checking it every few milliseconds, for what the code does not
 * signal (an origin's request counter, a count in the store); bounded by the test timeout, so a
 * slow machine waits longer rather than failing. Fails the test with `what` otherwise.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = TEST_TIMEOUT_MS * 0.9,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`)
}

/** A promise with its resolver, for gating an origin route. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** The stored response for a request URL (no Vary, no ignored parameters), read through the inspection API. */
export async function storedResponse(owner: { cache: Cache }, url: string): Promise<StoredResponse | undefined> {
  const wanted = new URL(url).href
  for await (const response of owner.cache.responses()) if (response.url === wanted) return response
  return undefined
}

/** Every stored response entry (Vary markers left out), read straight from the store. */
export async function storedEntries(owner: { cache: Cache }): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = []
  for await (const record of owner.cache.store.records()) if (record.entry?.kind === 'response') entries.push(record.entry)
  return entries
}
