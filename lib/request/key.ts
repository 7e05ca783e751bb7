import { createHash, createHmac, hash } from 'node:crypto'
import { InvalidOptionValueError } from '../errors.js'
import { CREDENTIAL_HEADERS, FIELD_NAME } from '../http/fields.js'
import type { ResolvedSettings } from '../options/types.js'

/**
 * Bumped when the key recipe changes, so old entries are re-keyed or missed, never misread. 2: the
 * default credentials grew (API-key headers, credential query parameters keyed by a keyed hash). 3:
 * queries keyed as sent (`?a=1;b=2` and `?a=1%3Bb%3D2` had one key), a body with its media type.
 */
const KEY_VERSION = 3
/** What ignored parameters are replaced with in stored data. */
export const REDACTED = 'REDACTED'

/**
 * Credential query parameters as a URL is keyed or stored: `names` lower-case; with `secret`, their
 * values are replaced by `hashCredential()`; without it, the values are kept as they are (a stored
 * URL, whose credentials are hashed already) or, in `redactUrl`, replaced by `REDACTED`.
 */
export interface CredentialParameters {
  names: ReadonlySet<string>
  secret: string | undefined
}

/**
 * Headers that only describe the transport (or that fetch adds on its own, so one front sees them
 * and the other does not). They never take part in `matchHeaders: true` or in `Vary` matching:
 * content-coding is handled by converting the stored body, not by separate variants.
 */
const TRANSPORT_HEADERS = new Set([
  'accept-encoding',
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'sec-fetch-mode',
  'transfer-encoding',
])

/**
 * Request headers that steer the cache itself, not the content: left out of `matchHeaders: true`,
 * so a `no-cache` refresh or a conditional request updates the same entry.
 */
const CACHE_REQUEST_HEADERS = new Set([
  'cache-control',
  'pragma',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
])

/**
 * What fetch sends when the caller sets nothing (Node's fetch first, then undici's own `fetch`). An
 * absent header compares equal to its default, so a request made through either front, with or without
 * the explicit default, finds the same entry; RFC 9110 §12.5 gives absent `Accept` / `Accept-Language`
 * the same meaning as `*`. A value the caller set still selects its own variant (RFC 9111 §4.1).
 */
const FETCH_DEFAULTS: Readonly<Record<string, readonly [string, ...string[]]>> = {
  accept: ['*/*'],
  'accept-language': ['*'],
  'user-agent': ['node', 'undici'],
}

/** A request header's value for matching: the fetch default when absent (or another default), `null` when absent without one. */
function matchedValue(name: string, headers: Headers): string | null {
  const value = headers.get(name)
  // Own fields only: a `Vary: constructor` names a header, not Object.prototype.constructor.
  const defaults = Object.hasOwn(FETCH_DEFAULTS, name) ? FETCH_DEFAULTS[name] : undefined
  if (defaults && (value === null || defaults.includes(value))) return defaults[0]
  return value
}

/** The parts of a request that make its key. */
export interface KeyInput {
  method: string
  /** Normalized, ignored parameters removed (see `normalizeUrl`). */
  url: string
  headers: Headers
  /** From `bodyDigest()`; `''` without a body. */
  bodyDigest: string
  /**
   * The credential headers already hold `hashCredential()` values (stored request headers, when
   * `recreateKeys()` re-keys an entry): use them as they are instead of hashing them again.
   */
  credentialsHashed?: boolean
}

/**
 * Lower-case scheme and host, default port dropped (the URL parser does these), query parameters
 * sorted by name (stable, so repeated names keep their order), ignored ones removed, fragment dropped.
 * Each `name=value` pair is keyed as it was sent, never decoded and re-encoded, which would make
 * URLs servers read apart one key: some split on `;` too (Rack < 3, Python < 3.9.2, Go < 1.17), tell
 * `?flag` from `?flag=`, or read `+` as a plus; and URLSearchParams turns every escape that is not
 * UTF-8 (`?q=caf%E9`) into U+FFFD.
 */
export function normalizeUrl(input: string, ignored: ReadonlySet<string>, credentials?: CredentialParameters): string {
  const url = new URL(input)
  url.hash = ''
  const secret = credentials?.secret
  if (url.search) {
    url.search = keyedPairs(url.search.slice(1), ignored, (name, pair) =>
      secret !== undefined && credentials?.names.has(name.toLowerCase()) === true ? hashedPair(pair, secret) : pair,
    )
  }
  return url.href
}

/**
 * The non-empty `name=value` pairs of a query (without its `?`) or a form body as sent, without the
 * ignored ones, each as `keep` gives it, sorted by name as URLSearchParams reads it (stable: repeated
 * names keep their order), joined again.
 */
function keyedPairs(
  text: string,
  ignored: ReadonlySet<string>,
  keep: (name: string, pair: string) => string = (_, pair) => pair,
): string {
  const pairs: [string, string][] = []
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const name = lenientDecode(rawName(pair))
    if (!ignored.has(name)) pairs.push([name, keep(name, pair)])
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return pairs.map(([, pair]) => pair).join('&')
}

/** A raw pair's value, as sent (escapes and all); `''` for a bare name. */
function rawValue(pair: string): string {
  const at = pair.indexOf('=')
  return at === -1 ? '' : pair.slice(at + 1)
}

/** A raw pair's name, as sent. */
function rawName(pair: string): string {
  const at = pair.indexOf('=')
  return at === -1 ? pair : pair.slice(0, at)
}

/** A raw `name=value` pair with its value (as sent, escapes and all) replaced by its keyed hash. */
function hashedPair(pair: string, secret: string): string {
  return `${rawName(pair)}=${encodeURIComponent(hashCredential(rawValue(pair), secret))}`
}

/** A parameter name as URLSearchParams would read it, for matching `ignoredParameters`. */
function lenientDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '))
  } catch {
    return raw
  }
}

/**
 * Like `normalizeUrl`, but in the order sent and with ignored parameters kept, their value replaced by
 * `REDACTED`, and credential parameters by their keyed hash (with `credentials.secret`: what is stored,
 * so `normalizeUrl` gives the same key from it) or by `REDACTED` (without: what debug output and events
 * show). Every other pair is kept as sent, byte for byte, so two stored URLs are one only if the
 * requests were.
 */
export function redactUrl(input: string, ignored: ReadonlySet<string>, credentials: CredentialParameters): string {
  // No query and no fragment: the URL as fetch normalized it (no second parse on each save).
  if (!input.includes('?') && !input.includes('#')) return input
  const url = new URL(input)
  url.hash = ''
  if (!url.search) return url.href
  const { names, secret } = credentials
  let changed = false
  const pairs = url.search
    .slice(1)
    .split('&')
    .map((pair) => {
      if (pair === '') return pair
      const name = lenientDecode(rawName(pair))
      let redacted: string
      if (ignored.has(name)) redacted = `${rawName(pair)}=${REDACTED}`
      else if (!names.has(name.toLowerCase())) return pair
      else if (secret === undefined) redacted = `${rawName(pair)}=${REDACTED}`
      // A stored URL saved again: its credential is a hash already.
      else if (HASHED.test(lenientDecode(rawValue(pair)))) return pair
      else redacted = hashedPair(pair, secret)
      changed ||= redacted !== pair
      return redacted
    })
  if (changed) url.search = pairs.join('&')
  return url.href
}

/**
 * The digest of a request body and its media type, normalized so equivalent bodies share a key: JSON
 * with sorted keys, form bodies like queries, ignored fields removed; other bodies hashed as bytes. Normalizing never
 * makes two different bodies one: numbers keep their text (2^53 + 1 is not 2^53), a `__proto__` field
 * stays a field, and bytes that are not UTF-8 (or a form field that decodes to U+FFFD) are hashed as
 * they are, since decoding would turn them all into the same replacement character.
 */
export function bodyDigest(
  body: Uint8Array | string | undefined,
  contentType: string | null,
  ignored: ReadonlySet<string>,
): string {
  if (body === undefined || body.length === 0) return ''
  const type = contentType?.toLowerCase() ?? ''
  let normalized: string | Uint8Array = body
  try {
    if (type.includes('json')) {
      normalized = JSON.stringify(sortJson(JSON.parse(textOf(body), keepNumberText as never), ignored))
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      // As a query: each pair as sent, sorted by name, ignored ones removed (see normalizeUrl).
      normalized = keyedPairs(textOf(body), ignored)
    }
  } catch {
    // Not JSON after all, or not UTF-8: hash the bytes.
  }
  // The same bytes as another media type are another request (JSON parsed, the same text as text/plain not).
  const essence = type.split(';', 1)[0]?.trim() ?? ''
  return createHash('sha256').update(`${essence}\n`).update(normalized).digest('hex')
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A body as text; throws on bytes that are not UTF-8. */
function textOf(body: Uint8Array | string): string {
  return typeof body === 'string' ? body : UTF8.decode(body)
}

/** What JSON.rawJSON and a reviver's source text (ES2026 "JSON.parse source text access") give. */
interface RawJson {
  rawJSON(text: string): object
  isRawJSON(value: unknown): boolean
}

/** A JSON.parse reviver keeping each number as its source text. */
function keepNumberText(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && context?.source !== undefined ? (JSON as unknown as RawJson).rawJSON(context.source) : value
}

function sortJson(value: unknown, ignored: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => sortJson(v, ignored))
  if (value === null || typeof value !== 'object' || (JSON as unknown as RawJson).isRawJSON(value)) return value
  // No prototype: a `__proto__` field is then an own field, as JSON.parse made it, not a prototype.
  const sorted: Record<string, unknown> = Object.create(null)
  for (const name of Object.keys(value).sort()) {
    if (!ignored.has(name)) sorted[name] = sortJson((value as Record<string, unknown>)[name], ignored)
  }
  return sorted
}

const HASHED = /^hmac-sha256:[0-9a-f]{64}$/

/** A keyed hash of a credential: stable for one store, useless to anyone without its secret. */
export function hashCredential(value: string, secret: string): string {
  return `hmac-sha256:${createHmac('sha256', secret).update(value).digest('hex')}`
}

/** The cache key: SHA-256 (hex) over method, URL, body, matched headers and the credential partition. */
export function createKey(input: KeyInput, settings: ResolvedSettings, secret: string): string {
  // One string hashed at once: the same digest as hashing the lines one by one, without a Hash object.
  let material = `v${KEY_VERSION}\n${input.method}\n${input.url}\n${input.bodyDigest}\n`
  const { headers } = input
  const matched = settings.matchHeaders
  if (matched === true) {
    const names = new Set<string>(Object.keys(FETCH_DEFAULTS))
    for (const name of headers.keys()) names.add(name)
    for (const name of [...names].sort()) {
      if (
        TRANSPORT_HEADERS.has(name) ||
        CACHE_REQUEST_HEADERS.has(name) ||
        settings.ignoredHeaders.has(name) ||
        settings.credentialHeaders.includes(name)
      ) {
        continue
      }
      material += `${name}:${normalizeValue(matchedValue(name, headers) as string)}\n`
    }
  } else {
    for (const name of matched) {
      if (settings.ignoredHeaders.has(name) || settings.credentialHeaders.includes(name)) continue
      const value = matchedValue(name, headers)
      if (value !== null) material += `${name}:${normalizeValue(value)}\n`
    }
  }
  // Credentials partition the cache unless ignoredParameters names them.
  for (const [index, value] of credentialsOf(headers, settings.credentialHeaders)) {
    const name = settings.credentialHeaders[index] as string
    if (settings.ignoredHeaders.has(name)) continue
    material += `${name}:${input.credentialsHashed ? value : hashCredential(value, secret)}\n`
  }
  const key = hash('sha256', material, 'hex')
  if (!settings.keyFn) return key
  const custom: unknown = settings.keyFn({
    method: input.method,
    url: input.url,
    headers,
    bodyDigest: input.bodyDigest,
    defaultKey: key,
  })
  if (typeof custom !== 'string' || custom === '') {
    throw new InvalidOptionValueError('keyFn', custom, 'must return a non-empty string')
  }
  return custom
}

/**
 * The credential headers a request carries, as `[index in names, value]` in the order of `names`.
 * One pass over the request's few headers, rather than a lookup for each of the many names.
 */
export function credentialsOf(headers: Headers, names: readonly string[]): [number, string][] {
  const found: [number, string][] = []
  for (const [name, value] of headers) {
    const index = names.indexOf(name)
    if (index !== -1) found.push([index, value])
  }
  if (found.length > 1) found.sort((a, b) => a[0] - b[0])
  return found
}

/** Whitespace around commas collapsed (RFC 9111 §4.1 allows normalizing before comparing). */
function normalizeValue(value: string): string {
  return value.replace(/\s*,\s*/g, ',').trim()
}

/** The key of one variant of a response that carried `Vary`. `credentialsHashed`: as in `KeyInput`. */
export function variantKey(
  baseKey: string,
  vary: readonly string[],
  headers: Headers,
  secret: string,
  credentialsHashed = false,
): string {
  let material = `${baseKey}\nvary\n`
  for (const name of vary) material += `${name}:${varyValue(name, headers, secret, credentialsHashed)}\n`
  return hash('sha256', material, 'hex')
}

/**
 * A request header's value as `Vary` compares it: whitespace around commas collapsed (RFC 9111 §4.1
 * allows normalizing), fetch's defaults filled in, credentials hashed, transport headers ignored.
 */
function varyValue(name: string, headers: Headers, secret: string, credentialsHashed = false): string {
  if (TRANSPORT_HEADERS.has(name)) return ''
  // A malformed Vary member names no header a request can carry: it is absent from every request
  // (and Headers.get() would throw on it).
  if (!FIELD_NAME.test(name)) return '\u0000absent'
  const value = matchedValue(name, headers)
  if (value === null) return '\u0000absent'
  if (CREDENTIAL_HEADERS.includes(name)) return credentialsHashed ? value : hashCredential(value, secret)
  return LIST_HEADERS.has(name) ? normalizeList(value) : normalizeValue(value)
}

/**
 * Content-negotiation fields whose members are case-insensitive and whose order carries no meaning
 * (preference is their `q` weight, RFC 9110 §12.4.2).
 */
const LIST_HEADERS: ReadonlySet<string> = new Set(['accept', 'accept-charset', 'accept-encoding', 'accept-language'])

/**
 * A list-valued field as `Vary` compares it (RFC 9111 §4.1 allows normalizing): members lower-cased,
 * whitespace around `,`, `;` and `=` removed, empty members dropped, sorted; so `en-US, fr;q=0.5`
 * and `FR; q=0.5,en-us` select the same variant.
 */
function normalizeList(value: string): string {
  const members: string[] = []
  for (const member of value.toLowerCase().split(',')) {
    const trimmed = member.replace(/\s*([;=])\s*/g, '$1').trim()
    if (trimmed) members.push(trimmed)
  }
  return members.sort().join(',')
}

/** The request headers as stored: credentials hashed, ignored ones redacted. */
export function storedRequestHeaders(headers: Headers, settings: ResolvedSettings, secret: string): Record<string, string> {
  const stored: Record<string, string> = {}
  for (const [name, value] of headers) {
    if (settings.ignoredHeaders.has(name)) stored[name] = REDACTED
    else if (settings.credentialHeaders.includes(name)) stored[name] = hashCredential(value, secret)
    else stored[name] = value
  }
  return stored
}
