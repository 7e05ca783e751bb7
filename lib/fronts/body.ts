/**
 * Body streams between the origin and the callers: recording what passes so it can be stored once
 * complete, sharing one origin body among coalesced callers, and aborting a caller's copy.
 */

/**
 * Passes `source` through and calls `onComplete` with every byte once it has ended cleanly. The
 * reader sees the end only after `onComplete` settled, so a body read to the end is already stored.
 * Past `limit` bytes recording stops (the body still flows). A body that errors or is cancelled is
 * never handed to `onComplete`.
 */
export function recordBody(
  source: ReadableStream<Uint8Array>,
  limit: number,
  onComplete: (body: Uint8Array) => void | Promise<void>,
): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let chunks: Uint8Array[] | undefined = []
  let size = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) {
          if (chunks) {
            const body = concat(chunks, size)
            chunks = undefined
            await onComplete(body)
          }
          controller.close()
          return
        }
        if (chunks) {
          size += value.byteLength
          if (size > limit) chunks = undefined
          // A copy: the caller owns the chunk it is handed and may write into it.
          else chunks.push(value.slice())
        }
        controller.enqueue(value)
      },
      cancel(reason) {
        chunks = undefined
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

/** Joins chunks into one buffer (no copy for a single chunk). */
export function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/**
 * Splits one stream into `count` independent ones. Each can be read at its own pace or cancelled
 * without affecting the others; the source is cancelled only when all are.
 */
export function fanOut(source: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array>[] {
  const branches: ReadableStream<Uint8Array>[] = []
  let rest = source
  for (let i = 1; i < count; i++) {
    const [branch, next] = rest.tee()
    branches.push(branch)
    rest = next
  }
  branches.push(rest)
  return branches
}

/** A stream that errors with the signal's reason when it aborts, cancelling its source. */
export function abortable(source: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let onAbort: (() => void) | undefined
  const cleanup = () => {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    onAbort = undefined
  }
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          cleanup()
          controller.error(signal.reason)
          reader.cancel(signal.reason).catch(() => {})
        }
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      },
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (signal.aborted) return
          if (done) {
            cleanup()
            controller.close()
          } else controller.enqueue(value)
        } catch (error) {
          cleanup()
          if (!signal.aborted) controller.error(error)
        }
      },
      cancel(reason) {
        cleanup()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

/** How much of an in-memory body one read hands out, so large bodies stream instead of arriving whole. */
const CHUNK = 64 * 1024

/** A stream over bytes already in memory, in copied chunks (the stored body is never handed out). */
export function bytesStream(body: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= body.byteLength) {
          controller.close()
          return
        }
        const end = Math.min(offset + CHUNK, body.byteLength)
        controller.enqueue(body.slice(offset, end))
        offset = end
      },
    },
    { highWaterMark: 0 },
  )
}
