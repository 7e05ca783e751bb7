import type { Engine } from './engine.js'
import { realTimers } from './timers.js'

/** How long a request waits for an identical response still arriving (an event stream may never end). */
const RECORDING_WAIT_MS = 1000

/**
 * Marks a body as being recorded under `baseKey` until it is stored, or will not be (`done`), or the
 * wait runs out: an identical request made while it arrives waits for it and is then a hit, as if it
 * had arrived already.
 */
export function markRecording(engine: Engine, baseKey: string, url: string, done: Promise<unknown>): void {
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>((resolve) => {
    timer = realTimers.setTimeout(resolve, RECORDING_WAIT_MS)
    timer.unref()
  })
  engine.inFlight.startRecording(
    baseKey,
    url,
    Promise.race([done, waited]).then(() => realTimers.clearTimeout(timer)),
  )
}
