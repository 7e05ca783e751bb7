import { Duplex } from 'node:stream'

/**
 * The socket a ClientRequest answered by the cache gets instead of a connection (lib/README.md,
 * "The node:http front"): what the request writes is dropped, and it reads the answer the cache
 * serialized, so Node's own HTTP parser builds the `IncomingMessage` and runs the request's usual
 * events (`socket`, `response`, `close`, timeouts). No connection is ever opened.
 */
export class ServedSocket extends Duplex {
  /** As for a connected `net.Socket`: Node waits for `connect` while this is true. */
  readonly connecting = false
  readonly remoteAddress = undefined
  readonly remotePort = undefined
  #head: Buffer | undefined
  #body: ReadableStream<Uint8Array> | undefined
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  readonly #onBodyError: ((error: Error) => void) | undefined

  /**
   * `head` (status line and fields, or the whole answer) then, when given, `body` until it ends. A
   * body that fails is told to `onBodyError`: the parser takes the socket's end for the end of a
   * body delimited by it (RFC 9112 §6.3), so the message is failed there, with the error itself.
   */
  constructor(head?: Buffer, body?: ReadableStream<Uint8Array>, onBodyError?: (error: Error) => void) {
    super()
    this.#head = head
    this.#body = body
    this.#onBodyError = onBodyError
  }

  override _read(): void {
    if (this.#head) {
      const head = this.#head
      this.#head = undefined
      this.push(head)
      // The whole answer is given: the socket ends, as the origin's would after `connection: close`
      // (an answer without a length, a 205 say, ends there: RFC 9112 §6.3).
      if (!this.#body) this.push(null)
      return
    }
    if (!this.#body) return
    this.#reader ??= this.#body.getReader()
    this.#reader.read().then(
      ({ done, value }) => {
        if (done) this.push(null)
        else this.push(value)
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error))
        if (!this.#onBodyError) return this.destroy(failure)
        // Closed, not failed (the request gets `close`, no late `error` a caller may not listen for);
        // the message fails with the body's own error, where its reader listens.
        this.destroy()
        this.#onBodyError(failure)
      },
    )
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback()
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.#reader?.cancel(error ?? undefined).catch(() => {})
    callback(error)
  }

  /** Node's client ends a socket it will not reuse this way. */
  destroySoon(): void {
    this.destroy()
  }

  // What the client calls on a `net.Socket`; nothing to tune without a connection.
  setTimeout(): this {
    return this
  }
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  address(): Record<string, never> {
    return {}
  }
}
