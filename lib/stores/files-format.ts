import { createHash } from 'node:crypto'
import { upgraded } from '../entry/codec.js'
import type { CacheEntry } from '../entry/entry.js'
import { parseHttpDate } from '../http/dates.js'
import { bodyText } from '../http/text-body.js'

/**
 * How the files store writes one entry as a readable JSON file (lib/README.md, "Stores and entries"):
 * the fields in a fixed order, request headers sorted, one header pair per line, times as ISO dates,
 * and the body as text when it is UTF-8 text (else base64). Nothing in the file comes from the local
 * clock when the response has a `Date`: its times are the response's own (see {@link stableTimes}),
 * so recording the same responses twice writes the same bytes, and a file changes in review only
 * where the response did.
 */

/** The file format's version, written in every file; another version is a row that cannot be read. */
const FILE_FORMAT = 1

/** An entry file's name: `<host and path>~<key hash>.json` (see {@link fileName}). */
const ENTRY_FILE = /^[^.][^/]*~([0-9a-f]{12})\.json$/

/**
 * The name of the file holding the entry stored under `key`: the request's host and path (method
 * first when not GET) for a reader, and a short hash of the key that tells entries apart and
 * finds a key's file (the query, the variant and the credentials are in the key).
 */
export function fileName(key: string, entry: { method?: unknown; url?: unknown }): string {
  let slug = 'entry'
  if (typeof entry.url === 'string' && URL.canParse(entry.url)) {
    const url = new URL(entry.url)
    slug = `${url.host}${url.pathname === '/' ? '' : url.pathname}`
  }
  if (typeof entry.method === 'string' && entry.method !== 'GET') slug = `${entry.method}_${slug}`
  slug =
    slug
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 100) || 'entry'
  return `${slug}~${keyHash(key)}.json`
}

/** The short hash naming `key`'s file: 48 bits, ample for the responses of a fixture directory. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12)
}

/** The key hash of an entry file's name, or `undefined` for a name that is not an entry file. */
export function hashOfFile(name: string): string | undefined {
  return ENTRY_FILE.exec(name)?.[1]
}

/** The body as the file keeps it: text when it is textual UTF-8 (see bodyText), else base64. */
function encodeBody(entry: CacheEntry): { text: string } | { base64: string } {
  const type = entry.headers.find(([name]) => name === 'content-type')?.[1]
  const text = entry.encoding === 'identity' ? bodyText(entry.body, type) : undefined
  if (text !== undefined) return { text }
  return { base64: Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength).toString('base64') }
}

/**
 * The times the file keeps. When the response has a valid `Date`, the times are that date (the
 * response's own clock, to the second: RFC 9110 §6.6.1) and the expiry keeps its distance from
 * `createdAt`, rounded to the second; without one, they are written as they are. Ages computed from
 * them then count from the origin's clock rather than this machine's, which is what a recording needs.
 */
function stableTimes(entry: CacheEntry): Pick<CacheEntry, 'requestTime' | 'responseTime' | 'createdAt' | 'expires'> {
  const { requestTime, responseTime, createdAt, expires } = entry
  const date = parseHttpDate(entry.headers.find(([name]) => name === 'date')?.[1])
  if (date === undefined) return { requestTime, responseTime, createdAt, expires }
  const lifetime = expires === null ? null : Math.round((expires - createdAt) / 1000) * 1000
  return { requestTime: date, responseTime: date, createdAt: date, expires: lifetime === null ? null : date + lifetime }
}

/** The file's text for an entry (an entry of another shape is written as it is, and read back as unreadable). */
export function formatEntry(entry: CacheEntry): string {
  const readable = upgraded({ ...entry }) !== undefined && entry.body instanceof Uint8Array
  const times = readable ? stableTimes(entry) : entry
  const file = {
    format: FILE_FORMAT,
    v: entry.v,
    key: entry.key,
    kind: entry.kind,
    request: {
      method: entry.method,
      url: entry.url,
      headers: sortedObject(entry.requestHeaders),
      bodyDigest: entry.bodyDigest,
    },
    response: {
      url: entry.responseUrl,
      redirected: entry.redirected,
      status: entry.status,
      statusText: entry.statusText,
      headers: entry.headers,
      ...(entry.vary ? { vary: entry.vary } : {}),
      ...(entry.tags ? { tags: entry.tags } : {}),
    },
    body: { encoding: entry.encoding, ...(readable ? encodeBody(entry) : {}) },
    times: {
      requestTime: isoDate(times.requestTime),
      responseTime: isoDate(times.responseTime),
      createdAt: isoDate(times.createdAt),
      expires: times.expires === null ? null : isoDate(times.expires),
    },
  }
  // One header pair, and one vary list, per line: a diff then shows the field that changed.
  return `${JSON.stringify(file, null, 2).replace(/\[\n\s+("(?:[^"\\]|\\.)*"),\n\s+("(?:[^"\\]|\\.)*")\n\s+\]/g, '[$1, $2]')}\n`
}

/** What a file holds: its entry, or `undefined` (with the key when the file names one) when it cannot be read. */
export function parseEntry(text: string): { key: string | undefined; entry: CacheEntry | undefined } {
  let file: FileShape
  try {
    file = JSON.parse(text) as FileShape
  } catch {
    return { key: undefined, entry: undefined }
  }
  const key = typeof file?.key === 'string' ? file.key : undefined
  if (file?.format !== FILE_FORMAT || typeof file.request !== 'object' || typeof file.response !== 'object') {
    return { key, entry: undefined }
  }
  const { request, response, body, times } = file
  const entry = {
    v: file.v,
    key: file.key,
    kind: file.kind,
    method: request.method,
    url: request.url,
    responseUrl: response.url,
    requestHeaders: request.headers,
    bodyDigest: request.bodyDigest,
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    redirected: response.redirected,
    body: decodeBody(body),
    encoding: body?.encoding,
    ...(response.vary ? { vary: response.vary } : {}),
    ...(response.tags ? { tags: response.tags } : {}),
    requestTime: fromIso(times?.requestTime),
    responseTime: fromIso(times?.responseTime),
    createdAt: fromIso(times?.createdAt),
    expires: times?.expires === null ? null : fromIso(times?.expires),
  }
  // The file keeps no freshness facts (they would go wrong when someone edits a header): they are computed here.
  const readable = upgraded(entry) !== undefined && entry.body !== undefined && Number.isFinite(entry.responseTime)
  return { key, entry: readable ? (entry as unknown as CacheEntry) : undefined }
}

interface FileShape {
  format: unknown
  v: CacheEntry['v']
  key: unknown
  kind: CacheEntry['kind']
  request: { method: string; url: string; headers: Record<string, string>; bodyDigest: string }
  response: {
    url: string
    redirected: boolean
    status: number
    statusText: string
    headers: [string, string][]
    vary?: string[]
    tags?: string[]
  }
  body?: { encoding: CacheEntry['encoding']; text?: unknown; base64?: unknown }
  times?: Record<string, unknown>
}

function decodeBody(body: FileShape['body']): Uint8Array | undefined {
  if (typeof body?.text === 'string') return new TextEncoder().encode(body.text)
  if (typeof body?.base64 === 'string') return new Uint8Array(Buffer.from(body.base64, 'base64'))
  return undefined
}

/** A time as an ISO date; one no `Date` can hold stays a number. */
function isoDate(ms: number): string | number {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : ms
}

function fromIso(value: unknown): number {
  if (typeof value === 'number') return value
  return typeof value === 'string' ? Date.parse(value) : Number.NaN
}

function sortedObject(record: Record<string, string>): Record<string, string> {
  if (typeof record !== 'object' || record === null) return record
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
