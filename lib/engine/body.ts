import { copyBytes } from '../entry/entry.js'

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
  expected?: number,
): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let recorded: Uint8Array[] | undefined = []
  let size = 0
  // A known length within the limit: record into one buffer (no copy for the caller, none at the end).
  let whole = expected !== undefined && expected <= limit ? new Uint8Array(expected) : undefined
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
    whole = undefined
    shared = false
    onGiveUp()
  }
  void (async () => {
    try {
      while (recorded && !cancelled) {
        const { done, value } = await reader.read()
        if (cancelled) break
        if (done) {
          const body = whole ? whole.subarray(0, size) : concat(recorded, size)
          recorded = undefined
          whole = undefined
          await onComplete(body)
          shared = false
          ended = true
          break
        }
        queue.push(value)
        // More than the length said: not the body it announced, so not stored.
        if (whole && size + value.byteLength > whole.byteLength) giveUp()
        else whole?.set(value, size)
        size += value.byteLength
        if (recorded && size > limit) giveUp()
        else if (recorded && !whole) recorded.push(value)
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
            controller.enqueue(shared && !whole ? copyBytes(chunk) : chunk)
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

interface Branch {
  queue: Uint8Array[]
  bytes: number
  open: boolean
  pulling: boolean
  /** Bytes handed to its reader so far. */
  delivered: number
  /** Fell behind and left the shared source: the rest comes from `rest` (see `resume`). */
  detached: boolean
  rest: ReadableStreamDefaultReader<Uint8Array> | undefined
  controller?: ReadableStreamDefaultController<Uint8Array>
}

/**
 * Splits one stream into `count` independent ones, read from the source as fast as the fastest
 * branch reads. Each can be read at its own pace or cancelled without affecting the others; the
 * source is cancelled only when all are. A branch that falls more than `window` bytes behind leaves
 * the source: what it held is dropped, so one caller that does not read never makes the others'
 * shared request hold the whole body (`tee()` would), and when it reads again it gets the rest of
 * its body from `resume(i, delivered)`: the bytes from `delivered` on.
 */
export function fanOut(
  source: ReadableStream<Uint8Array>,
  count: number,
  window: number,
  resume: (branch: number, delivered: number) => Promise<ReadableStream<Uint8Array>>,
): ReadableStream<Uint8Array>[] {
  const reader = source.getReader()
  const branches: Branch[] = Array.from({ length: count }, () => ({
    queue: [],
    bytes: 0,
    open: true,
    pulling: false,
    delivered: 0,
    detached: false,
    rest: undefined,
  }))
  let reading: Promise<void> | undefined
  let ended = false
  let failure: { error: unknown } | undefined
  const leave = (branch: Branch, reason: unknown): Promise<void> => {
    branch.open = false
    branch.queue = []
    branch.bytes = 0
    return branches.some((b) => b.open) ? Promise.resolve() : reader.cancel(reason).catch(() => {})
  }
  const readOnce = () => {
    reading ??= (async () => {
      try {
        const { done, value } = await reader.read()
        if (done) ended = true
        else
          for (const branch of branches) {
            if (!branch.open) continue
            branch.queue.push(value)
            branch.bytes += value.byteLength
            if (branch.bytes > window && !branch.pulling) {
              branch.detached = true
              void leave(branch, 'fell behind')
            }
          }
      } catch (error) {
        failure = { error }
      } finally {
        reading = undefined
      }
    })()
    return reading
  }
  return branches.map(
    (branch, i) =>
      new ReadableStream<Uint8Array>(
        {
          start(controller) {
            branch.controller = controller
          },
          async pull(controller) {
            branch.pulling = true
            try {
              while (branch.open) {
                const chunk = branch.queue.shift()
                if (chunk) {
                  branch.bytes -= chunk.byteLength
                  branch.delivered += chunk.byteLength
                  controller.enqueue(chunk)
                  return
                }
                if (failure) return controller.error(failure.error)
                if (ended) return controller.close()
                await readOnce()
              }
              if (!branch.detached) return
              branch.rest ??= (await resume(i, branch.delivered)).getReader()
              const { done, value } = await branch.rest.read()
              if (done) controller.close()
              else controller.enqueue(value)
            } finally {
              branch.pulling = false
            }
          },
          cancel(reason) {
            if (branch.rest) return branch.rest.cancel(reason)
            branch.detached = false
            return leave(branch, reason)
          },
        },
        { highWaterMark: 0 },
      ),
  )
}

/**
 * The bytes of `source` from offset `from` on (a body asked for again, of which the caller has the
 * first `from` bytes already). Errors with `error()` when the source ends before `from`.
 */
export function skipBytes(source: ReadableStream<Uint8Array>, from: number, error: () => Error): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let skipped = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return skipped < from ? controller.error(error()) : controller.close()
          if (skipped >= from) return controller.enqueue(value)
          const keep = skipped + value.byteLength - from
          skipped += value.byteLength
          if (keep > 0) return controller.enqueue(value.subarray(value.byteLength - keep))
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

/** A stream that errors with the signal's reason when it aborts, cancelling its source. */
export function abortable(source: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  let onAbort: (() => void) | undefined
  const cleanup = () => {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    onAbort = undefined
  }
  let listening = false
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Listens from the first read on: a body never read adds no listener to a long-lived signal.
        if (!listening) {
          listening = true
          onAbort = () => {
            cleanup()
            controller.error(signal.reason)
            reader.cancel(signal.reason).catch(() => {})
          }
          if (signal.aborted) return onAbort()
          signal.addEventListener('abort', onAbort, { once: true })
        }
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

/**
 * `source` as a byte stream (`type: 'bytes'`), as fetch's own bodies are: a reader may then be a BYOB
 * one (`getReader({ mode: 'byob' })`). Each chunk is handed over as a copy, since a byte stream takes
 * over the buffer it is given, and a chunk may share its buffer with the recorded body or a pool.
 */
export function byteStream(source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  // Locked at the first read, not before: a Response that could not be made of this stream leaves
  // `source` untouched for its caller.
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  return new ReadableStream({
    type: 'bytes',
    async pull(controller) {
      reader ??= source.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) {
          controller.close()
          // A BYOB reader waiting on a read is answered by the close.
          controller.byobRequest?.respond(0)
          return
        }
        // An empty chunk cannot be enqueued in a byte stream: read on.
        if (value.byteLength > 0) return controller.enqueue(copyBytes(value))
      }
    },
    cancel: (reason) => (reader ?? source).cancel(reason),
  })
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

/**
 * `head` followed by what `rest` streams: a stored piece and the origin's remainder, read as one body
 * (RFC 9111 §3.4). Cancelling it cancels `rest`.
 */
export function prepend(head: Uint8Array, rest: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> {
  const reader = rest?.getReader()
  let first = true
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (first) {
          first = false
          controller.enqueue(copyBytes(head))
          return
        }
        const next = await reader?.read()
        if (!next || next.done) controller.close()
        else controller.enqueue(next.value)
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}
