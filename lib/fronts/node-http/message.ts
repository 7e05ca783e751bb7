import type { IncomingMessage } from 'node:http'
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
  message.headers = headersObject(message.rawHeaders)
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

/** `IncomingMessage.headers` from raw pairs, as Node builds it: names lower-cased, repeats joined, `set-cookie` a list. */
function headersObject(raw: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase()
    const value = raw[i + 1] as string
    const had = headers[name]
    if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value]
    else headers[name] = had === undefined ? value : `${had as string}, ${value}`
  }
  return headers
}
