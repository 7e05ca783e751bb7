/**
 * Body streams between the origin and the callers: recording what passes so it can be stored once
 * complete, sharing one origin body among coalesced callers, and aborting a caller's copy.
 */

/**
 * Passes `source` through and records it to be stored. Recording reads ahead on its own, so a
 * response is stored once its body has arrived whether or not the caller reads it (and the caller's
 * reads never wait on it); what is read ahead is held once, shared by the record and the caller's
 * queue, and never more than `limit` bytes: past it recording stops (`onGiveUp`) and the caller's
 * reads pull from the source again. `onComplete` gets every byte once the body ended cleanly, and
 * the caller sees the end only after it settled, so a body read to the end is already stored. A
 * body that errors or that the caller cancels is never handed to `onComplete`.
 */
export function recordBody(
  source: ReadableStream<Uint8Array>,
  limit: number,
  onComplete: (body: Uint8Array) => void | Promise<void>,
  onGiveUp: () => void = () => {},
): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let recorded: Uint8Array[] | undefined = []
  let size = 0
  /** Chunks read ahead, not yet handed to the caller (the same objects as `recorded`). */
  const queue: Uint8Array[] = []
  let head = 0
  let reading = true
  /** `onComplete` has not settled yet: a chunk handed out now is still part of the record. */
  let shared = true
  let ended = false
  let failure: { error: unknown } | undefined
  let cancelled = false
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const giveUp = () => {
    if (!recorded) return
    recorded = undefined
    shared = false
    onGiveUp()
  }
  void (async () => {
    try {
      while (recorded && !cancelled) {
        const { done, value } = await reader.read()
        if (cancelled) break
        if (done) {
          const body = concat(recorded, size)
          recorded = undefined
          await onComplete(body)
          shared = false
          ended = true
          break
        }
        size += value.byteLength
        queue.push(value)
        if (size > limit) giveUp()
        else recorded.push(value)
        notify()
      }
    } catch (error) {
      failure = { error }
    }
    giveUp()
    reading = false
    notify()
  })()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (head < queue.length) {
            const chunk = queue[head] as Uint8Array
            queue[head++] = EMPTY
            if (head === queue.length) queue.length = head = 0
            // The caller owns the chunk it is handed and may write into it: a copy while it is recorded.
            controller.enqueue(shared ? chunk.slice() : chunk)
            return
          }
          if (failure) return controller.error(failure.error)
          if (ended) return controller.close()
          if (!reading) {
            // Recording gave up: the caller's reads go to the source.
            const { done, value } = await reader.read()
            if (done) controller.close()
            else controller.enqueue(value)
            return
          }
          await new Promise<void>((resolve) => {
            wake = resolve
          })
        }
      },
      cancel(reason) {
        cancelled = true
        queue.length = head = 0
        giveUp()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

const EMPTY = new Uint8Array(0)

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
