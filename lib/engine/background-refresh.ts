import type { CacheEntry } from '../entry/entry.js'
import { debug } from '../observe/debug.js'
import { conditionalHeaders, hasValidator } from '../policy/freshness.js'
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
  entry: CacheEntry,
  start: (conditional: Record<string, string> | undefined) => Promise<Outcome>,
): void {
  if (!engine.startRefresh(keyed.baseKey)) return
  const activity = hold(engine)
  const headers = new Headers(entry.headers)
  const conditional = hasValidator(headers) ? conditionalHeaders(headers) : undefined
  start(conditional)
    // The body records itself; nobody reads it, so cancel it once the write settled (or gave up).
    .then((outcome) => (outcome.kind === 'origin' ? release(outcome) : undefined))
    .catch((error) => debug('background refresh of %s failed: %s', engine.redact(keyed.url), error))
    .finally(() => {
      engine.endRefresh(keyed.baseKey)
      releaseEngine(activity)
    })
}
