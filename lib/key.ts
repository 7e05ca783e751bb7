import { createHash, createHmac } from 'node:crypto'
import type { ResolvedSettings } from './policy/settings.js'

/** Bumped when the key recipe changes, so old entries are re-keyed or missed, never misread. */
export const KEY_VERSION = 1
/** What ignored parameters are replaced with in stored data. */
export const REDACTED = 'REDACTED'

/** Request headers that carry credentials: never stored in clear, and they partition the cache. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie']

/**
 * Headers that fetch adds on its own, which one front sees and the other does not. They are left out
 * when `matchHeaders` is `true` and from `Vary` matching, so both fronts compute the same key
 * (content-coding is handled by converting the stored body, not by separate variants).
 */
const TRANSPORT_HEADERS = new Set([
  'accept-encoding',
  'accept-language',
  'accept',
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'sec-fetch-mode',
  'transfer-encoding',
  'user-agent',
])

/** rfc: the values fetch (Node's or undici's) sends for these headers when the caller set none. */
const FETCH_DEFAULTS: Readonly<Record<string, readonly string[]>> = {
  accept: ['*/*'],
  'accept-language': ['*'],
  'user-agent': ['node', 'undici'],
}

/** The parts of a request that make its key. */
export interface KeyInput {
  method: string
  /** Normalized, ignored parameters removed (see `normalizeUrl`). */
  url: string
  headers: Headers
  /** From `bodyDigest()`; `''` without a body. */
  bodyDigest: string
}

/**
 * Lower-case scheme and host, default port dropped (the URL parser does these), query parameters
 * sorted by name (stable, so repeated names keep their order), ignored ones removed, fragment dropped.
 */
export function normalizeUrl(input: string, ignored: ReadonlySet<string>): string {
  const url = new URL(input)
  url.hash = ''
  if (url.search) {
    const params = [...url.searchParams].filter(([name]) => !ignored.has(name))
    params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    url.search = new URLSearchParams(params).toString()
  }
  return url.href
}

/** Like `normalizeUrl`, but ignored parameters are kept with their value replaced: what is stored. */
export function redactUrl(input: string, ignored: ReadonlySet<string>): string {
  const url = new URL(input)
  url.hash = ''
  for (const name of new Set(url.searchParams.keys())) {
    if (ignored.has(name)) url.searchParams.set(name, REDACTED)
  }
  return url.href
}

/**
 * The digest of a request body, normalized so equivalent bodies share a key: JSON with sorted keys,
 * form bodies like queries, ignored fields removed; other bodies hashed as bytes.
 */
export function bodyDigest(body: Uint8Array | string | undefined, contentType: string | null, ignored: ReadonlySet<string>): string {
  if (body === undefined || body.length === 0) return ''
  const type = contentType?.toLowerCase() ?? ''
  const text = () => (typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  let normalized: string | Uint8Array = body
  if (type.includes('json')) {
    try {
      normalized = JSON.stringify(sortJson(JSON.parse(text()), ignored))
    } catch {
      // Not JSON after all: hash the bytes.
    }
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    const params = [...new URLSearchParams(text())].filter(([name]) => !ignored.has(name))
    params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    normalized = new URLSearchParams(params).toString()
  }
  return createHash('sha256').update(normalized).digest('hex')
}

function sortJson(value: unknown, ignored: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => sortJson(v, ignored))
  if (value === null || typeof value !== 'object') return value
  const sorted: Record<string, unknown> = {}
  for (const name of Object.keys(value).sort()) {
    if (!ignored.has(name)) sorted[name] = sortJson((value as Record<string, unknown>)[name], ignored)
  }
  return sorted
}

/** A keyed hash of a credential: stable for one store, useless to anyone without its secret. */
export function hashCredential(value: string, secret: string): string {
  return `hmac-sha256:${createHmac('sha256', secret).update(value).digest('hex')}`
}

/** The cache key: SHA-256 (hex) over method, URL, body, matched headers and the credential partition. */
export function createKey(input: KeyInput, settings: ResolvedSettings, secret: string): string {
  const hash = createHash('sha256')
  hash.update(`v${KEY_VERSION}\n${input.method}\n${input.url}\n${input.bodyDigest}\n`)
  const { headers } = input
  const matched = settings.matchHeaders
  if (matched === true) {
    for (const [name, value] of headers) {
      if (TRANSPORT_HEADERS.has(name) || settings.ignoredHeaders.has(name) || CREDENTIAL_HEADERS.includes(name)) continue
      hash.update(`${name}:${value}\n`)
    }
  } else {
    for (const name of matched) {
      if (settings.ignoredHeaders.has(name) || CREDENTIAL_HEADERS.includes(name)) continue
      const value = headers.get(name)
      if (value !== null) hash.update(`${name}:${value}\n`)
    }
  }
  // Credentials partition the cache unless ignoredParameters names them (DESIGN §6).
  for (const name of CREDENTIAL_HEADERS) {
    if (settings.ignoredHeaders.has(name)) continue
    const value = headers.get(name)
    if (value !== null) hash.update(`${name}:${hashCredential(value, secret)}\n`)
  }
  const key = hash.digest('hex')
  if (!settings.keyFn) return key
  return settings.keyFn({ method: input.method, url: input.url, headers, bodyDigest: input.bodyDigest, defaultKey: key })
}

/** The key of one variant of a response that carried `Vary`. */
export function variantKey(baseKey: string, vary: readonly string[], headers: Headers, secret: string): string {
  const hash = createHash('sha256').update(`${baseKey}\nvary\n`)
  for (const name of vary) hash.update(`${name}:${varyValue(name, headers, secret)}\n`)
  return hash.digest('hex')
}

/**
 * A request header's value as `Vary` compares it: whitespace around commas collapsed (RFC 9111 §4.1
 * allows normalizing), credentials hashed, fetch's own transport headers ignored.
 */
export function varyValue(name: string, headers: Headers, secret: string): string {
  // rfc: a header the caller set still selects the variant (RFC 9111 §4.1: a Vary: Accept-Language
  // response must not be served to another language); only fetch's own default value counts as absent,
  // so both fronts agree. accept-encoding stays ignored: the stored body is converted instead.
  const defaults = FETCH_DEFAULTS[name]
  if (TRANSPORT_HEADERS.has(name) && !defaults) return ''
  const value = headers.get(name)
  if (value === null || defaults?.includes(value)) return '\u0000absent'
  if (CREDENTIAL_HEADERS.includes(name)) return hashCredential(value, secret)
  return value.replace(/\s*,\s*/g, ',').trim()
}

/** The request headers as stored: credentials hashed, ignored ones redacted. */
export function storedRequestHeaders(headers: Headers, settings: ResolvedSettings, secret: string): Record<string, string> {
  const stored: Record<string, string> = {}
  for (const [name, value] of headers) {
    if (settings.ignoredHeaders.has(name)) stored[name] = REDACTED
    else if (CREDENTIAL_HEADERS.includes(name)) stored[name] = hashCredential(value, secret)
    else stored[name] = value
  }
  return stored
}
