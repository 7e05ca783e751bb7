import type { IncomingMessage } from 'node:http'
import type { OriginResponse } from '../../engine/outcome.js'
import { isBodiless } from '../../http/bodiless.js'
import { headersOfLines } from '../../http/field-lines.js'
import { setFields } from './message.js'

/**
 * The origin's answer on a `node:http` connection, as the exchange takes it: on the caller's own
 * connection a copy shared with the caller ({@link sharedResponse}), on a request of the cache's own
 * (a second origin request for one caller) read by the cache alone ({@link ownResponse}).
 */

/** How much of an own response's body is read ahead of its reader, in bytes. */
const OWN_READ_AHEAD = 64 * 1024

/** Status, fields and URL of the answer; `body` is the front's to make. */
function fields(res: IncomingMessage, url: string, body: ReadableStream<Uint8Array> | null): OriginResponse {
  const lines: [string, string][] = []
  const raw = res.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push([raw[i] as string, raw[i + 1] as string])
  const headers = headersOfLines(lines)
  const response: OriginResponse = {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    headers,
    body,
    decoded: false,
    url,
    redirected: false,
  }
  // A TLS socket says `authorized: false` when the certificate failed verification and the caller let
  // the request through anyway.
  const socket = res.socket as { encrypted?: boolean; authorized?: boolean } | null
  if (socket?.encrypted && !socket.authorized) response.unverified = true
  return response
}

/** The error a body cut short ends with (the connection closed before its end). */
function cutShort(): Error {
  return new Error('the response ended before its body was complete')
}

/**
 * The answer on the caller's own connection: its body is a copy of what Node pushes to the caller.
 * The copy being recorded reads on up to `readAhead` bytes past what the caller has read.
 */
export function sharedResponse(res: IncomingMessage, url: string, method: string, readAhead: number): OriginResponse {
  if (isBodiless(res.statusCode ?? 0, method)) return fields(res, url, null)
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let open = true
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    // Nobody will read this copy (a 304, a covered failure): let the connection go.
    cancel() {
      open = false
      res.resume()
    },
  })
  const push = res.push
  let copied = 0
  res.push = function copying(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (open) {
      if (chunk === null) {
        open = false
        controller.close()
      } else {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array)
        copied += bytes.byteLength
        controller.enqueue(bytes)
      }
    }
    // Node stops reading the connection while the caller's unread part is full; the copy being
    // recorded reads on, as the other fronts do, up to the size the cache may store.
    return push.call(this, chunk, encoding) || (open && copied <= readAhead)
  }
  res.once('close', () => {
    if (!open) return
    open = false
    controller.error(cutShort())
  })
  return fields(res, url, body)
}

/**
 * The answer to a request of the cache's own: nobody else reads `res`, so its body is read from it
 * at the pace of the body's reader (the connection waits while the reader does), and a body nobody
 * reads lets the connection go.
 */
export function ownResponse(res: IncomingMessage, url: string, method: string): OriginResponse {
  if (isBodiless(res.statusCode ?? 0, method)) {
    res.resume()
    return fields(res, url, null)
  }
  let open = true
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = (error?: Error) => {
          if (!open) return
          open = false
          if (error) controller.error(error)
          else controller.close()
        }
        res.on('data', (chunk: Buffer) => {
          if (!open) return
          controller.enqueue(chunk)
          if ((controller.desiredSize ?? 0) <= 0) res.pause()
        })
        res.once('end', () => finish())
        res.once('error', (error) => finish(error))
        res.once('close', () => finish(res.complete ? undefined : cutShort()))
        res.pause()
      },
      pull() {
        res.resume()
      },
      // Nobody reads the rest (an answer that does not fit, a reader gone): the connection is not kept.
      cancel() {
        open = false
        res.destroy()
      },
    },
    { highWaterMark: OWN_READ_AHEAD, size: (chunk) => chunk.byteLength },
  )
  return fields(res, url, body)
}

/** Reads a stream to its end, dropping what it reads. */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return
  const reader = body.getReader()
  try {
    while (!(await reader.read()).done) {}
  } catch {
    // The recording reports its own failures.
  }
}

/** Removes a field from a received message. */
export function removeField(res: IncomingMessage, name: string): void {
  const raw = res.rawHeaders
  for (let i = raw.length - 2; i >= 0; i -= 2) if ((raw[i] as string).toLowerCase() === name) raw.splice(i, 2)
  setFields(res)
}
