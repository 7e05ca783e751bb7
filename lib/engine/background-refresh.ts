import { debug } from '../observe/debug.js'
import { hold, release as releaseEngine } from './activity.js'
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
  if (!engine.startRefresh(keyed.baseKey)) return
  const activity = hold(engine)
  start(conditional)
    // The body records itself; nobody reads it, so cancel it once the write settled (or gave up).
    .then((outcome) => (outcome.kind === 'origin' ? release(outcome) : undefined))
    .catch((error) => debug('background refresh of %s failed: %s', engine.redact(keyed.url), error))
    .finally(() => {
      engine.endRefresh(keyed.baseKey)
      releaseEngine(activity)
    })
}
