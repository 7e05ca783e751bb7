import type { Engine, NewEntry, Saved } from '../engine/engine.js'
import { decode } from '../http/content-coding.js'
import { bodyText, namesOtherCharset, utf8Text } from '../http/text-body.js'
import { storableHeaders } from '../policy/stored-headers.js'
import { bodyDigest } from '../request/key.js'
import type { Cache } from './cache.js'

/**
 * How many entries (and body bytes) an import hands to the store before awaiting their writes: well
 * inside what the SQLite store keeps pending (sqlite-tuning.ts, MAX_PENDING_WRITES and _BYTES).
 */
const BATCH_ENTRIES = 500
const BATCH_BYTES = 16 * 1024 * 1024

const NOT_STORED = 'not stored (the store failed or dropped the write)'

/** The largest time a Date holds, in ms since the epoch (ECMA-262 §21.4.1.22). */
const MAX_DATE = 8.64e15

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) in and out of a cache: what browsers'
 * devtools save, and what the CLI's `export --har` writes, one entry per stored response. Fields of
 * our own start with `_` (the spec's rule for custom fields): the request body's digest, which keys a
 * POST whose body is not stored, the expiry, and where a followed redirect led (the response's URL
 * and `redirected`).
 */

/** The parts of a HAR 1.2 log that are read and written here. */
export interface HarLog {
  log: {
    version: string
    creator: { name: string; version: string }
    entries: HarEntry[]
  }
}

export interface HarHeader {
  name: string
  value: string
}

export interface HarEntry {
  startedDateTime: string
  time: number
  request: {
    method: string
    url: string
    httpVersion: string
    cookies: unknown[]
    headers: HarHeader[]
    queryString: HarHeader[]
    postData?: { mimeType: string; text?: string }
    headersSize: number
    bodySize: number
  }
  response: {
    status: number
    statusText: string
    httpVersion: string
    cookies: unknown[]
    headers: HarHeader[]
    content: { size: number; mimeType: string; text?: string; encoding?: string }
    redirectURL: string
    headersSize: number
    bodySize: number
  }
  cache: Record<string, never>
  timings: { send: number; wait: number; receive: number }
  /** The digest of the request body the response was stored for (fetch-http-cache). */
  _bodyDigest?: string
  /** When the stored response expires, or `null` for never (fetch-http-cache). */
  _expires?: string | null
  /** The response's URL, when a redirect led away from the request's (fetch-http-cache). */
  _responseUrl?: string
  /** `true` when fetch followed redirects to the response (fetch-http-cache). */
  _redirected?: boolean
}

/** What `importHar` did: responses stored, and entries left out with why. */
export interface HarImport {
  imported: number
  skipped: { url: string; reason: string }[]
}

/** A HAR file the importer cannot read: not JSON, or not a HAR log. */
export class HarFormatError extends Error {
  override name = 'HarFormatError'
}

/**
 * Every stored response as a HAR 1.2 log; bodies without content-coding, as devtools show them.
 * `creatorVersion` is the package's version alone (`0.1.0`): HAR's `creator` has the name apart.
 */
export async function exportHar(cache: Cache, creatorVersion: string): Promise<HarLog> {
  const entries: HarEntry[] = []
  for await (const stored of cache.responses()) {
    const { entry } = stored
    let body = (await stored.body()) ?? new Uint8Array(0)
    const coding = entry.headers.find(([name]) => name === 'content-encoding')?.[1]
    if (entry.encoding === 'coded') body = decode(body, coding)
    const mimeType = entry.headers.find(([name]) => name === 'content-type')?.[1] ?? ''
    // Text when it is UTF-8, whatever the type (README): decoding and encoding again gives the same bytes.
    // Bytes that a charset other than UTF-8 labels are text only for a textual type, as before.
    const text = bodyText(body, mimeType) ?? (namesOtherCharset(mimeType) ? undefined : utf8Text(body))
    const url = new URL(entry.url)
    entries.push({
      startedDateTime: new Date(entry.requestTime).toISOString(),
      time: Math.max(0, entry.responseTime - entry.requestTime),
      request: {
        method: entry.method,
        url: entry.url,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: Object.entries(entry.requestHeaders).map(([name, value]) => ({ name, value })),
        queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
        headersSize: -1,
        bodySize: -1,
      },
      response: {
        status: entry.status,
        statusText: entry.statusText,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: entry.headers.map(([name, value]) => ({ name, value })),
        content: {
          size: body.byteLength,
          mimeType,
          ...(text === undefined ? { text: Buffer.from(body).toString('base64'), encoding: 'base64' } : { text }),
        },
        redirectURL: entry.headers.find(([name]) => name === 'location')?.[1] ?? '',
        headersSize: -1,
        bodySize: body.byteLength,
      },
      cache: {},
      timings: { send: 0, wait: Math.max(0, entry.responseTime - entry.requestTime), receive: 0 },
      _bodyDigest: entry.bodyDigest,
      // An expiry past what a Date holds (stored before durations were capped at 2^31 s) is as good as never.
      _expires: entry.expires === null || !(Math.abs(entry.expires) <= MAX_DATE) ? null : new Date(entry.expires).toISOString(),
      // Where a followed redirect led: a replay answers with that URL and `redirected`, and only a caller that follows.
      ...(entry.responseUrl === entry.url ? {} : { _responseUrl: entry.responseUrl }),
      ...(entry.redirected ? { _redirected: true } : {}),
    })
  }
  return { log: { version: '1.2', creator: { name: 'fetch-http-cache', version: creatorVersion }, entries } }
}

/**
 * Statuses a HAR entry is not stored for: no final answer (0: blocked or failed in the browser; 1xx),
 * a partial one (206), no body of its own (304: the browser revalidated), or a redirect (3xx: fetch
 * would have followed it).
 */
function skipReason(status: number): string | undefined {
  if (status < 200 || status > 599) return `status ${status}: no response`
  if (status === 206) return 'status 206: partial content is never stored'
  if (status === 304) return 'status 304: not modified (no body of its own: the browser revalidated)'
  if (status >= 300 && status < 400) return `status ${status}: a redirect (fetch follows it; its target is imported on its own)`
  return undefined
}

/**
 * Stores the responses of a HAR log through the engine, as if each had been fetched: keyed by the
 * engine's rules, `Vary` variants and tags included. Credentials in the HAR's requests (`Cookie`,
 * `Authorization`: a browser sends them with everything) are left out, so the responses answer
 * requests made without them. Requests are keyed with their `postData`, or with our `_bodyDigest`.
 */
export async function importHar(engine: Engine, har: unknown): Promise<HarImport> {
  // In the order they were fetched: a Vary marker is dated by the first variant stored, and a variant
  // older than its marker is not served (engine.ts, lookup), so an earlier one imported later would miss.
  const entries = harEntries(har)
    .map((item, i) => ({ item, i, at: Date.parse(item?.startedDateTime) }))
    .map((e) => ({ ...e, at: Number.isFinite(e.at) ? e.at : Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
  const result: HarImport = { imported: 0, skipped: [] }
  const credentials = engine.settings.credentialHeaders
  // Handed to the store in batches, read back once a batch is committed: a write-behind store (SQLite)
  // commits a batch in a few transactions, where awaiting each entry would wait out a commit delay each.
  let batch: { url: string; saved: Saved }[] = []
  let batchBytes = 0
  const settle = async (): Promise<void> => {
    await engine.capabilities.flush?.flush()
    // Read back: a store may drop a write without failing it (Redis before it has its shared secret).
    for (const { url, saved } of batch) {
      if ((await saved.confirmed) && (await engine.store.get(saved.entry.key)) !== undefined) result.imported++
      else result.skipped.push({ url, reason: NOT_STORED })
    }
    batch = []
    batchBytes = 0
  }
  for (const { item, i } of entries) {
    // Junk in the array (null, a number, a string) is skipped like an entry without a request.
    const { request, response } = typeof item === 'object' && item !== null ? item : ({} as Partial<HarEntry>)
    const url = typeof request?.url === 'string' ? request.url : `entries[${i}]`
    if (
      typeof request?.method !== 'string' ||
      !URL.canParse(url) ||
      typeof response?.status !== 'number' ||
      !Number.isInteger(response.status)
    ) {
      result.skipped.push({ url, reason: 'not a request and response' })
      continue
    }
    const skip = skipReason(response.status)
    if (skip) {
      result.skipped.push({ url, reason: skip })
      continue
    }
    const method = request.method.toUpperCase()
    const requestHeaders = toHeaders(request.headers, (name) => !credentials.includes(name))
    const { text: posted, mimeType: postedType } = request.postData ?? {}
    const digest =
      typeof item._bodyDigest === 'string'
        ? item._bodyDigest
        : bodyDigest(
            typeof posted === 'string' ? posted : undefined,
            typeof postedType === 'string' ? postedType : null,
            engine.settings.ignored,
          )
    const started = Date.parse(item.startedDateTime)
    const requestTime = Number.isFinite(started) ? started : Date.now()
    const responseTime = requestTime + (Number.isFinite(item.time) && item.time > 0 ? Math.round(item.time) : 0)
    const expires = typeof item._expires === 'string' ? Date.parse(item._expires) : null
    const body = contentBytes(response.content)
    if (body === undefined) {
      result.skipped.push({ url, reason: 'content.text is not valid base64' })
      continue
    }
    const responseUrl = typeof item._responseUrl === 'string' && URL.canParse(item._responseUrl) ? item._responseUrl : url
    const stored: NewEntry = {
      responseUrl,
      status: response.status,
      statusText: typeof response.statusText === 'string' ? response.statusText : '',
      headers: storableHeaders(
        toHeaders(response.headers, () => true),
        false,
      ),
      redirected: item._redirected === true,
      body,
      encoding: 'identity',
      requestTime,
      responseTime,
      createdAt: responseTime,
      expires: expires !== null && Number.isFinite(expires) ? expires : null,
    }
    let saved: Saved | undefined
    try {
      const baseKey = engine.keyFor(method, url, requestHeaders, digest)
      saved = await engine.save({ method, url, headers: requestHeaders, bodyDigest: digest, baseKey }, stored)
    } catch (error) {
      result.skipped.push({ url, reason: (error as Error).message })
      continue
    }
    if (!saved) {
      result.skipped.push({ url, reason: NOT_STORED })
      continue
    }
    batch.push({ url, saved })
    batchBytes += stored.body.byteLength
    if (batch.length >= BATCH_ENTRIES || batchBytes >= BATCH_BYTES) await settle()
  }
  await settle()
  return result
}

/** The entries of a HAR log; a `HarFormatError` for anything that is not one. */
export function harEntries(har: unknown): HarEntry[] {
  const entries = (har as { log?: { entries?: unknown } } | null)?.log?.entries
  if (!Array.isArray(entries)) throw new HarFormatError('not a HAR file: no log.entries array')
  return entries as HarEntry[]
}

/** HAR header pairs as `Headers`, HTTP/2 pseudo-headers (`:authority`) and refused pairs left out. */
function toHeaders(pairs: unknown, keep: (name: string) => boolean): Headers {
  const headers = new Headers()
  if (!Array.isArray(pairs)) return headers
  for (const pair of pairs as Partial<HarHeader>[]) {
    if (typeof pair?.name !== 'string' || typeof pair.value !== 'string' || pair.name.startsWith(':')) continue
    if (!keep(pair.name.toLowerCase())) continue
    try {
      headers.append(pair.name, pair.value)
    } catch {}
  }
  return headers
}

/** Base64 as browsers write it (RFC 4648 §4, or §5's URL-safe letters), padded or not, whitespace allowed. */
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/

/** The body's bytes; `undefined` for a base64 text that is not base64 (Buffer would decode it to nothing, silently). */
function contentBytes(content: HarEntry['response']['content'] | undefined): Uint8Array | undefined {
  if (typeof content?.text !== 'string') return new Uint8Array(0)
  if (content.encoding === 'base64') {
    const text = content.text.replace(/\s+/g, '')
    return BASE64.test(text) ? new Uint8Array(Buffer.from(text, 'base64')) : undefined
  }
  return new TextEncoder().encode(content.text)
}
