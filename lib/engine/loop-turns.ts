import { realTimers } from './timers.js'

/**
 * A hit from a synchronous store is answered without a turn of the event loop (engine/exchange.ts):
 * that is what makes it fast. A caller that loops over hits would then starve the loop, which a
 * network answer never does: timers would not fire, and sockets would not be read, so a keep-alive
 * connection the origin closed meanwhile would stay in its pool and fail the next miss with
 * ECONNRESET. So once hits have been answered for `MAX_STARVING_MS` without the loop turning, the
 * next one waits for it (engine/timers.ts), as an answer from the network would.
 */

/** How long hits may keep the event loop from turning. */
const MAX_STARVING_MS = 5

export class LoopTurns {
  /** When the first hit since the loop last turned was answered (`performance.now()`). */
  #since: number | undefined
  readonly #turned = (): void => {
    this.#since = undefined
  }

  /** Whether a hit answered now must first let the event loop turn. */
  mustYield(): boolean {
    const now = performance.now()
    if (this.#since === undefined) {
      this.#since = now
      realTimers.setImmediate(this.#turned)
      return false
    }
    return now - this.#since >= MAX_STARVING_MS
  }
}
