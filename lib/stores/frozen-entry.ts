import { type CacheEntry, copyBytes, type EntryMeta } from '../entry/entry.js'

/**
 * How the memory store keeps an entry: one frozen object with its fields in a fixed order (one hidden
 * class for every entry), header pairs as frozen two-element arrays, and the body in an `ArrayBuffer`
 * of its own size (never a view that keeps a larger buffer alive). A hit hands it out as it is.
 */

/** Header names already held, one string each: responses repeat the same few names. Bounded. */
const names = new Map<string, string>()
const MAX_NAMES = 512
/**
 * Header fields whose values repeat across responses: their `[name, value]` pairs are held once and
 * shared by every entry that has them (a pair costs more than its two strings). Bounded.
 */
const REPEATING = new Set([
  'accept-ranges',
  'access-control-allow-credentials',
  'access-control-allow-origin',
  'cache-control',
  'connection',
  'content-encoding',
  'content-language',
  'content-length',
  'content-type',
  'cross-origin-resource-policy',
  'keep-alive',
  'pragma',
  'referrer-policy',
  'server',
  'strict-transport-security',
  'transfer-encoding',
  'vary',
  'via',
  'x-content-type-options',
  'x-frame-options',
  'x-powered-by',
  'x-xss-protection',
])
const pairs = new Map<string, readonly [string, string]>()
const MAX_PAIRS = 4096
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * A frozen entry from `meta` and `body`. The body is copied unless `owned` (already the store's own,
 * as on a refresh), so a caller changing its bytes afterwards cannot change what is stored.
 */
export function frozenEntry(meta: EntryMeta, body: Uint8Array, owned = false): CacheEntry {
  const url = meta.url
  const entry: CacheEntry = {
    v: meta.v,
    key: meta.key,
    kind: meta.kind,
    method: meta.method,
    url,
    responseUrl: meta.responseUrl === url ? url : meta.responseUrl,
    requestHeaders: isEmpty(meta.requestHeaders) ? NO_HEADERS : Object.freeze({ ...meta.requestHeaders }),
    bodyDigest: meta.bodyDigest,
    status: meta.status,
    statusText: meta.statusText,
    headers: Object.freeze(meta.headers.map(([name, value]) => pair(name, value))) as [string, string][],
    redirected: meta.redirected,
    body: owned ? body : copyBytes(body),
    encoding: meta.encoding,
    requestTime: meta.requestTime,
    responseTime: meta.responseTime,
    createdAt: meta.createdAt,
    expires: meta.expires,
    initialAge: meta.initialAge,
    ...(meta.directives ? { directives: meta.directives } : {}),
    ...(meta.vary ? { vary: Object.freeze([...meta.vary]) as string[] } : {}),
    ...(meta.tags ? { tags: Object.freeze([...meta.tags]) as string[] } : {}),
  }
  return Object.freeze(entry)
}

function pair(name: string, value: string): [string, string] {
  if (!REPEATING.has(name)) return Object.freeze([held(name), value]) as [string, string]
  const id = `${name}:${value}`
  let shared = pairs.get(id)
  if (shared === undefined) {
    shared = Object.freeze([held(name), value] as const)
    if (pairs.size < MAX_PAIRS) pairs.set(id, shared)
  }
  return shared as [string, string]
}

function isEmpty(record: Record<string, string>): boolean {
  for (const _ in record) return false
  return true
}

function held(name: string): string {
  const known = names.get(name)
  if (known !== undefined) return known
  if (names.size < MAX_NAMES) names.set(name, name)
  return name
}
