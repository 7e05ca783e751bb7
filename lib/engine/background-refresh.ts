import { debug } from '../observe/debug.js'
import type { Engine, KeyedRequest } from './engine.js'
import { type Outcome, release } from './outcome.js'

/**
 * stale-while-revalidate: refresh the entry off the caller's path (never with the caller's
 * AbortSignal: the caller has its answer already), one refresh per key at a time.
 */
export function refreshInBackground(
  engine: Engine,
  keyed: KeyedRequest,
  conditional: Record<string, string> | undefined,
  start: (conditional: Record<string, string> | undefined) => Promise<Outcome>,
): void {
  const { inFlight } = engine
  if (!inFlight.startRefresh(keyed.baseKey)) return
  inFlight.hold()
  start(conditional)
    // The body records itself; nobody reads it, so cancel it once the write settled (or gave up).
    .then((outcome) => (outcome.kind === 'origin' ? release(outcome) : undefined))
    .catch((error) => debug('background refresh of %s failed: %s', engine.redact(keyed.url), error))
    .finally(() => {
      inFlight.endRefresh(keyed.baseKey)
      inFlight.release()
    })
}
