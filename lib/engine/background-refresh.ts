import { debug } from '../observe/debug.js'
import type { Engine, KeyedRequest } from './engine.js'
import { type Outcome, release } from './outcome.js'

/**
 * How long a background refresh may take, answer and body, before it is abandoned (the entry stays
 * stale; a later request starts another). Its socket keeps the process alive: an origin that never
 * answers must not hold open a process that has finished its own work.
 */
export const BACKGROUND_REFRESH_TIMEOUT_MS = 10_000

/**
 * stale-while-revalidate: refresh the entry off the caller's path (never with the caller's
 * AbortSignal: the caller has its answer already), one refresh per key at a time, within
 * {@link BACKGROUND_REFRESH_TIMEOUT_MS}.
 */
export function refreshInBackground(
  engine: Engine,
  keyed: KeyedRequest,
  conditional: Record<string, string> | undefined,
  start: (conditional: Record<string, string> | undefined, signal: AbortSignal) => Promise<Outcome>,
): void {
  const { inFlight } = engine
  if (!inFlight.startRefresh(keyed.baseKey)) return
  inFlight.hold()
  // AbortSignal.timeout's timer is unreferenced: it never keeps the process alive itself.
  start(conditional, AbortSignal.timeout(BACKGROUND_REFRESH_TIMEOUT_MS))
    // The body records itself; nobody reads it, so cancel it once the write settled (or gave up).
    .then((outcome) => (outcome.kind === 'origin' ? release(outcome) : undefined))
    .catch((error) => debug('background refresh of %s failed: %s', engine.redact(keyed.url), error))
    .finally(() => {
      inFlight.endRefresh(keyed.baseKey)
      inFlight.release()
    })
}
