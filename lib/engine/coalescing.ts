import { abortable, fanOut } from './body.js'
import type { Engine, KeyedRequest } from './engine.js'
import type { Flight, Member } from './in-flight.js'
import { discard, type Outcome } from './outcome.js'

/**
 * Identical concurrent misses share one origin request. Each caller gets its own body; a caller that
 * aborts leaves without failing the others; the origin request is aborted only when all have left.
 */
export function coalesced(
  engine: Engine,
  keyed: KeyedRequest,
  callerSignal: AbortSignal | undefined,
  start: (signal: AbortSignal | undefined) => Promise<Outcome>,
): Promise<Outcome> {
  const flightKey = `${keyed.baseKey}\n${JSON.stringify([...keyed.headers])}`
  let flight = engine.inFlight.flight(flightKey)
  if (!flight) {
    const started: Flight = { members: [], controller: new AbortController() }
    flight = started
    engine.inFlight.startFlight(flightKey, started)
    // A signal costs undici work on every request: wire one only when the leader can abort. Without
    // it, callers who join later and all abort leave the request to finish (and be stored).
    const signal = callerSignal ? started.controller.signal : undefined
    start(signal).then(
      (outcome) => {
        engine.inFlight.endFlight(flightKey)
        distribute(started.members, outcome, engine.settings.maxEntrySize)
      },
      (error) => {
        engine.inFlight.endFlight(flightKey)
        for (const member of started.members.splice(0)) member.reject(error)
      },
    )
  }
  const joined = flight
  const signal = callerSignal
  return new Promise<Outcome>((resolve, reject) => {
    const member: Member = { resolve, reject, signal }
    joined.members.push(member)
    signal?.addEventListener(
      'abort',
      () => {
        const index = joined.members.indexOf(member)
        if (index === -1) return // already has its response; its body handles the abort
        joined.members.splice(index, 1)
        reject(signal.reason)
        if (joined.members.length === 0) joined.controller.abort(signal.reason)
      },
      { once: true },
    )
  })
}

function distribute(members: Member[], outcome: Outcome, window: number): void {
  const taken = members.splice(0)
  if (outcome.kind !== 'origin') {
    for (const member of taken) member.resolve(outcome)
    return
  }
  const { response } = outcome
  if (taken.length === 0) {
    void discard(response)
    return
  }
  // The common case, one caller who cannot abort: the response as it is, no copy.
  const only = taken[0]
  if (taken.length === 1 && only && !only.signal) {
    only.resolve(outcome)
    return
  }
  // The leader's info object is shared on purpose: it is filled in once the body is stored.
  const branches = response.body ? fanOut(response.body, taken.length, window) : []
  taken.forEach((member, i) => {
    let body: ReadableStream<Uint8Array> | null = branches[i] ?? null
    if (body && member.signal) body = abortable(body, member.signal)
    member.resolve({ ...outcome, response: { ...response, body } })
  })
}
