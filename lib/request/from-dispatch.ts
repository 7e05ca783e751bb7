import type { Dispatcher } from 'undici'
import { validateRequestOptions } from '../options/settings.js'
import type { CacheRequest } from './cache-request.js'
import { bodyDigest } from './key.js'
import { unresolvedTarget } from './path-as-sent.js'

/**
 * What an undici dispatch asks for, keyed from `origin` + `path` (+ `query`) exactly as undici will
 * send them: the path is never resolved as a relative reference, so `//other-host/x` stays a path
 * on this origin (lib/README.md, "Keys from the request as sent").
 */

/**
 * undici's dispatch options, `cacheOptions` included (typed by augment.ts; unchecked until
 * `validateRequestOptions()` has read it).
 */
export type CacheDispatchOptions = Dispatcher.DispatchOptions

/** The request as the exchange sees it. Throws for bad `cacheOptions` (the caller's mistake). */
export function requestFromDispatch(opts: CacheDispatchOptions, ignored: ReadonlySet<string>, signal: AbortSignal): CacheRequest {
  const method = (opts.method ?? 'GET').toUpperCase()
  const headers = toHeaders(opts.headers)
  const origin = originOf(opts.origin)
  const options = validateRequestOptions(opts.cacheOptions)
  const body = opts.body
  const keyable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
  const digest = keyable
    ? bodyDigest((body ?? undefined) as string | Uint8Array | undefined, headers.get('content-type'), ignored)
    : undefined
  const path = withQuery(opts.path || '/', opts.query)
  let bypass: string | undefined
  let url = `${origin ?? 'http://invalid'}${path}`
  if (origin === undefined) bypass = 'no origin in the dispatch options'
  else if (!path.startsWith('/')) bypass = 'path not starting with /'
  else bypass = unresolvedTarget(path)
  if (!bypass && origin !== undefined) {
    // rfc: a Host field naming another authority changes what the origin answers (RFC 9110 §7.2):
    // the URL alone does not describe the request, so the cache stays out of it.
    const host = headers.get('host')
    if (host !== null && host.toLowerCase() !== new URL(origin).host) bypass = 'Host header differs from the origin'
    // Keep the path as sent: parse it against the origin as an absolute URL, never as a reference.
    url = new URL(`${origin}${path}`).href
  }
  const request: CacheRequest = { method, url, headers, bodyDigest: digest, mode: undefined, options, signal, bypass }
  // A dispatcher below that follows redirects (undici 6's Agent, undici's redirect interceptor) does so
  // when asked: a stored 3xx is then not this caller's answer, as for fetch following them.
  const { maxRedirections } = opts as { maxRedirections?: unknown }
  if (typeof maxRedirections === 'number' && maxRedirections > 0) request.follows = true
  return request
}

/** The origin as `scheme://host[:port]`, or `undefined` when the options carry none usable. */
function originOf(origin: Dispatcher.DispatchOptions['origin']): string | undefined {
  if (origin === undefined || origin === null) return undefined
  const text = typeof origin === 'string' ? origin : origin.toString()
  if (!/^https?:\/\//i.test(text)) return undefined
  try {
    return new URL(text).origin
  } catch {
    return undefined
  }
}

/** undici's `query` option appended the way undici serializes it (repeated keys for arrays). */
function withQuery(path: string, query: Record<string, unknown> | undefined | null): string {
  if (!query || /[?#]/.test(path)) return path
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const v of value) params.append(name, String(v))
    else params.append(name, String(value))
  }
  const serialized = params.toString()
  return serialized ? `${path}?${serialized}` : path
}

/** undici accepts headers as an object, a flat `[name, value, …]` array or an iterable of pairs. */
export function toHeaders(raw: Dispatcher.DispatchOptions['headers']): Headers {
  const headers = new Headers()
  if (!raw) return headers
  if (Array.isArray(raw)) {
    if (raw.length > 0 && Array.isArray(raw[0])) {
      for (const pair of raw as unknown as [string, string][]) headers.append(String(pair[0]), String(pair[1]))
    } else {
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(String(raw[i]), String(raw[i + 1]))
    }
    return headers
  }
  if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of raw as Iterable<[string, string | string[]]>) appendValue(headers, name, value)
    return headers
  }
  for (const [name, value] of Object.entries(raw as Record<string, string | string[] | undefined>))
    appendValue(headers, name, value)
  return headers
}

function appendValue(headers: Headers, name: string, value: string | string[] | number | undefined): void {
  if (value === undefined) return
  if (Array.isArray(value)) for (const v of value) headers.append(name, v)
  else headers.append(name, String(value))
}

/** The options to send on: without the cache's own, with `extra` header fields set. */
export function optionsToSend(opts: CacheDispatchOptions, extra: Record<string, string> | undefined): Dispatcher.DispatchOptions {
  if (!extra && opts.cacheOptions === undefined) return opts
  const { cacheOptions: _cacheOptions, ...rest } = opts
  if (!extra) return rest
  const headers = toHeaders(opts.headers)
  for (const [name, value] of Object.entries(extra)) headers.set(name, value)
  return { ...rest, headers: Object.fromEntries(headers) }
}
