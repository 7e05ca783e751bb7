import type { IncomingMessage } from 'node:http'
import type { OriginResponse } from '../../engine/outcome.js'

/** The origin's answer on a `node:http` connection, shared between the caller and the cache. */

/** The origin's answer as the exchange takes it: its body is a copy of what Node pushes to the caller. */
export function originResponse(res: IncomingMessage, url: string, method: string, readAhead: number): OriginResponse {
  const headers = new Headers()
  const raw = res.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] as string, raw[i + 1] as string)
    } catch {
      // A field Headers refuses (Node's parser is more lenient): not kept.
    }
  }
  const status = res.statusCode ?? 0
  let body: ReadableStream<Uint8Array> | null = null
  if (method !== 'HEAD' && status !== 204 && status !== 304) {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let open = true
    body = new ReadableStream<Uint8Array>({
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
      controller.error(new Error('the response ended before its body was complete'))
    })
  }
  return {
    status,
    statusText: res.statusMessage ?? '',
    headers,
    body,
    decoded: false,
    url,
    redirected: false,
  }
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

/** Removes a field from a received message (`headers` is built from `rawHeaders` on first read, maybe already). */
export function removeField(res: IncomingMessage, name: string): void {
  const headers = res.headers // built now, from the raw fields as they are
  const raw = res.rawHeaders
  for (let i = raw.length - 2; i >= 0; i -= 2) if ((raw[i] as string).toLowerCase() === name) raw.splice(i, 2)
  delete headers[name]
}
