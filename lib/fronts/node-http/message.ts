import type { IncomingMessage } from 'node:http'
import type { Outcome } from '../../engine/outcome.js'
import { type CacheEntry, identityBody } from '../../entry/entry.js'
import { isBodiless, notModifiedFields } from '../../http/bodiless.js'
import { appendCacheStatus } from '../../http/cache-status.js'
import { fieldLines } from '../../http/field-lines.js'
import { ServedSocket } from './served-socket.js'

/**
 * Answers the cache gives a `node:http` caller: as bytes for a request without a connection (Node
 * parses them, see ServedSocket), or as an `IncomingMessage` for a request whose connection already
 * carried the origin's answer (a 304 the cache turns into the stored response).
 */

/** Header fields a served body makes untrue: it goes out without content-coding, with its own length. */
const BODY_FIELDS = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'])

/** A served answer: status, the header fields to send, and the body (bytes, a stream, or none). */
export interface Served {
  status: number
  statusText: string
  headers: readonly (readonly [string, string])[]
  body: Uint8Array | ReadableStream<Uint8Array> | undefined
  /** A HEAD answer: the length GET would send, and no body. */
  headLength?: string | undefined
}

/**
 * The answer an outcome gives (an origin's answer not on the caller's connection, a stored one, a
 * generated one), and the URL it is for.
 */
export function servedOutcome(outcome: Outcome, method: string): { served: Served; url: string } {
  switch (outcome.kind) {
    case 'entry': {
      const { entry, notModified } = outcome
      const served: Served = {
        status: notModified ? 304 : entry.status,
        statusText: notModified ? 'Not Modified' : entry.statusText,
        // The caller already holds the representation: a 304 without its metadata (RFC 9111 §4.3.2).
        headers: notModified ? notModifiedFields(outcome.headers) : outcome.headers,
        body: notModified || isBodiless(entry.status, method) ? undefined : identityBody(entry),
        headLength: method === 'HEAD' && !notModified ? headLength(entry, outcome.headers) : undefined,
      }
      return { served, url: entry.responseUrl }
    }
    case 'generated': {
      const headers: [string, string][] = [
        ['content-type', 'text/plain; charset=utf-8'],
        ['cache-status', outcome.cacheStatus],
      ]
      const body = new TextEncoder().encode(outcome.body)
      return { served: { status: outcome.status, statusText: outcome.statusText, headers, body }, url: '' }
    }
    case 'origin': {
      const { response } = outcome
      const headers: [string, string][] = []
      for (const [name, value] of fieldLines(response.headers)) if (name !== 'cache-status') headers.push([name, value])
      // rfc: our member after those of the caches nearer the origin (RFC 9211 §2).
      headers.push(['cache-status', appendCacheStatus(response.headers.get('cache-status'), outcome.cacheStatus)])
      const served: Served = {
        status: response.status,
        statusText: response.statusText,
        headers,
        body: response.body ?? undefined,
      }
      return { served, url: response.url }
    }
    default:
      return outcome satisfies never
  }
}

/** rfc: a HEAD answer carries the length GET would send (RFC 9110 §9.3.2): the stored body's, or the stored field. */
function headLength(entry: CacheEntry, headers: readonly (readonly [string, string])[]): string | undefined {
  if (entry.method === 'GET') return String(identityBody(entry).byteLength)
  return headers.find(([name]) => name === 'content-length')?.[1]
}

/** The header fields as served: body fields replaced by the body's own length (none for a stream). */
function servedFields(served: Served): string[] {
  const raw: string[] = []
  for (const [name, value] of served.headers) if (!BODY_FIELDS.has(name)) raw.push(name, value)
  if (served.body instanceof Uint8Array) raw.push('content-length', String(served.body.byteLength))
  else if (served.headLength !== undefined) raw.push('content-length', served.headLength)
  return raw
}

/**
 * The answer as HTTP/1.1 bytes, with `connection: close` (the socket is the request's alone); a
 * streamed body is delimited by the socket's end (RFC 9112 §6.3).
 */
export function servedSocket(served: Served, onBodyError?: (error: Error) => void): ServedSocket {
  const raw = servedFields(served)
  let head = `HTTP/1.1 ${served.status} ${served.statusText.replace(/[\r\n]/g, '')}\r\n`
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`
  head += 'connection: close\r\n\r\n'
  const body = served.body
  if (body instanceof Uint8Array || body === undefined) {
    const bytes = body && body.byteLength > 0 ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1')
    return new ServedSocket(bytes)
  }
  return new ServedSocket(Buffer.from(head, 'latin1'), body, onBodyError)
}

/** The answer as an `IncomingMessage` of its own (on a socket of its own, never the connection's). */
export function servedMessage(served: Served): IncomingMessage {
  // Looked up when needed: importing node:http loads Node's undici (importing the package changes no global).
  const { IncomingMessage: Message } = process.getBuiltinModule('node:http')
  const message = new Message(new ServedSocket() as never)
  message.httpVersion = '1.1'
  message.httpVersionMajor = 1
  message.httpVersionMinor = 1
  message.statusCode = served.status
  message.statusMessage = served.statusText
  message.rawHeaders = servedFields(served)
  setFields(message)
  message.rawTrailers = []
  const body = served.body
  const end = () => {
    message.complete = true
    message.push(null)
  }
  if (body === undefined || body instanceof Uint8Array) {
    message._read = () => {}
    if (body && body.byteLength > 0) message.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength))
    end()
  } else {
    const reader = body.getReader()
    // Pushed until the message is full, as Node's parser pushes: an IncomingMessage asks for more
    // only when its reader drains it (`readingMore` is set), never after a chunk it passes straight on.
    let wanted = false
    let pumping = false
    const pump = async () => {
      pumping = true
      try {
        while (wanted) {
          wanted = false
          const { done, value } = await reader.read()
          if (done) return end()
          if (message.push(value)) wanted = true
        }
      } catch (error) {
        message.destroy(error instanceof Error ? error : new Error(String(error)))
      } finally {
        pumping = false
      }
    }
    message._read = () => {
      wanted = true
      if (!pumping) void pump()
    }
    message.once('close', () => reader.cancel().catch(() => {}))
  }
  return message
}

/** What Node's `IncomingMessage` uses to add one received field line to `headers` and `headersDistinct`. */
interface FieldLines {
  _addHeaderLine(name: string, value: string, into: Record<string, unknown>): void
  _addHeaderLineDistinct(name: string, value: string, into: Record<string, unknown>): void
}

/**
 * Sets `headers` and `headersDistinct` of a message from its `rawHeaders`, with Node's own rules
 * (repeats joined or dropped per field, `set-cookie` a list). Node builds both lazily from the count
 * of lines it parsed, so a message whose raw lines the cache changed, or built without the parser,
 * gets them here: `headers` a plain object and `headersDistinct` a prototype-less one, as Node makes
 * them (a field named `constructor` would otherwise meet `Object.prototype`'s).
 */
export function setFields(message: IncomingMessage): void {
  const lines = message as unknown as FieldLines
  const headers: Record<string, unknown> = {}
  const distinct: Record<string, unknown> = Object.create(null)
  const raw = message.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    lines._addHeaderLine(raw[i] as string, raw[i + 1] as string, headers)
    lines._addHeaderLineDistinct(raw[i] as string, raw[i + 1] as string, distinct)
  }
  message.headers = headers as IncomingMessage['headers']
  message.headersDistinct = distinct as IncomingMessage['headersDistinct']
}
