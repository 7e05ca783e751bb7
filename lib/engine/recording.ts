import type { Engine } from './engine.js'

/**
 * Key of a body being recorded for storing, in `engine.inFlight`: an identical request made while it
 * arrives waits for it (at most RECORDING_WAIT_MS) and is then a hit, as if it had arrived already.
 */
export function recordingKey(baseKey: string): string {
  return `recording\n${baseKey}`
}

/** How long a request waits for an identical response still arriving (an event stream may never end). */
const RECORDING_WAIT_MS = 1000

/** Marks a body as being recorded under `baseKey` until it is stored, or will not be (`done`), or the wait runs out. */
export function markRecording(engine: Engine, baseKey: string, done: Promise<unknown>): void {
  const key = recordingKey(baseKey)
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, RECORDING_WAIT_MS)
    timer.unref()
  })
  const settled = Promise.race([done, waited]).then(() => {
    clearTimeout(timer)
    if (engine.inFlight.get(key) === settled) engine.inFlight.delete(key)
  })
  engine.inFlight.set(key, settled)
}
