import { SlowReaderError } from '../errors.js'
import { abortable, bytesStream, fanOut, skipBytes } from './body.js'
import type { Engine, KeyedRequest } from './engine.js'
import type { Flight, Member } from './in-flight.js'
import { discard, type Outcome } from './outcome.js'

/**
 * How far, in bytes, a caller may fall behind the fastest of those sharing one origin request before
 * it is detached (never more than maxEntrySize): what one caller who does not read can make the
 * others hold.
 */
const DETACH_WINDOW = 1024 * 1024

function flightKey(keyed: KeyedRequest): string {
  return `${keyed.baseKey}\n${JSON.stringify([...keyed.headers])}`
}

/** Whether an identical request is in flight, which this one would join (and be counted `coalesced`). */
export function joinsFlight(engine: Engine, keyed: KeyedRequest): boolean {
  return engine.inFlight.flight(flightKey(keyed)) !== undefined
}

/**
 * Identical concurrent misses of a safe method share one origin request. Each caller gets its own
 * body; a caller that aborts leaves without failing the others; the origin request is aborted only
 * when all have left. A caller that falls behind is detached (see rejoin) rather than failed.
 */
export function coalesced(
  engine: Engine,
  keyed: KeyedRequest,
  callerSignal: AbortSignal | undefined,
  start: (signal: AbortSignal | undefined) => Promise<Outcome>,
  refetch: Member['refetch'],
  alone: Member['alone'],
): Promise<Outcome> {
  const key = flightKey(keyed)
  let flight = engine.inFlight.flight(key)
  const leads = !flight
  if (!flight) {
    const started: Flight = { members: [], controller: new AbortController(), url: keyed.url }
    flight = started
    engine.inFlight.startFlight(key, started)
    // A signal costs undici work on every request: wire one only when the leader can abort. Without
    // it, callers who join later and all abort leave the request to finish (and be stored).
    const signal = callerSignal ? started.controller.signal : undefined
    start(signal).then(
      (outcome) => {
        engine.inFlight.endFlight(key, started)
        distribute(started.members, outcome, Math.min(DETACH_WINDOW, engine.settings.maxEntrySize), engine, keyed)
      },
      (error) => {
        engine.inFlight.endFlight(key, started)
        for (const member of started.members.splice(0)) member.reject(error)
      },
    )
  }
  const joined = flight
  const signal = callerSignal
  return new Promise<Outcome>((resolve, reject) => {
    if (!signal) {
      joined.members.push({ resolve, reject, signal, refetch, alone, leads })
      return
    }
    // Listens only until the member has its answer (its body handles a later abort): a signal that
    // outlives many requests must not keep a listener for each.
    const onAbort = () => {
      const index = joined.members.indexOf(member)
      if (index === -1) return
      joined.members.splice(index, 1)
      reject(signal.reason)
      if (joined.members.length === 0) joined.controller.abort(signal.reason)
    }
    const member: Member = {
      resolve(outcome) {
        signal.removeEventListener('abort', onAbort)
        resolve(outcome)
      },
      reject(error) {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
      signal,
      refetch,
      alone,
      leads,
    }
    signal.addEventListener('abort', onAbort, { once: true })
    joined.members.push(member)
  })
}

function distribute(members: Member[], outcome: Outcome, window: number, engine: Engine, keyed: KeyedRequest): void {
  const taken = members.splice(0)
  if (outcome.kind !== 'origin') {
    for (const member of taken) member.resolve(outcome)
    return
  }
  const { response } = outcome
  // RFC 9111 §4: waiting requests share only an answer the cache may reuse for them (stored or
  // storable, fresh, no Set-Cookie it would not replay); otherwise each is forwarded on its own, and
  // only the caller whose request it answers gets it.
  if (outcome.reusable !== 'as-sent') {
    const leader = taken.find((member) => member.leads)
    const afterStore = outcome.reusable === 'once-stored' && leader !== undefined
    for (const member of taken) if (member !== leader) member.alone(afterStore).then(member.resolve, member.reject)
    if (!leader) {
      void discard(response)
      return
    }
    taken.splice(0, taken.length, leader)
  }
  if (taken.length === 0) {
    void discard(response)
    return
  }
  // The common case, one caller: the response as it is, no copy (its signal still ends its body).
  const only = taken[0]
  if (taken.length === 1 && only) {
    const body = response.body && only.signal ? abortable(response.body, only.signal) : response.body
    only.resolve(body === response.body ? outcome : { ...outcome, response: { ...response, body } })
    return
  }
  // The leader's info object is shared on purpose: it is filled in once the body is stored.
  const resume = (i: number, delivered: number) => rejoin(engine, keyed, outcome, taken[i] as Member, delivered)
  const branches = response.body ? fanOut(response.body, taken.length, window, resume) : []
  taken.forEach((member, i) => {
    let body: ReadableStream<Uint8Array> | null = branches[i] ?? null
    if (body && member.signal) body = abortable(body, member.signal)
    member.resolve({ ...outcome, response: { ...response, body } })
  })
}

/**
 * The rest of the body, from byte `delivered` on, for a caller that fell behind the others and was
 * detached. Once the shared answer is stored, from the entry (the same bytes, when stored in the form
 * the caller reads: fetch decodes, the dispatcher front does not); else from the caller's own request
 * to the origin (coalescing covers safe methods only, so asking again is safe), its first `delivered`
 * bytes skipped. An answer that is not the same response (another status, length or validator) ends
 * the body with a SlowReaderError rather than splice two responses.
 */
async function rejoin(
  engine: Engine,
  keyed: KeyedRequest,
  outcome: Extract<Outcome, { kind: 'origin' }>,
  member: Member,
  delivered: number,
): Promise<ReadableStream<Uint8Array>> {
  const { response, info } = outcome
  if ((response.decoded || !response.headers.has('content-encoding')) && (await info.stored)) {
    const entry = await engine.lookup(keyed)
    if (entry && entry.createdAt === info.createdAt?.getTime()) return bytesStream(entry.body.subarray(delivered))
  }
  const again = await member.refetch(member.signal)
  const same = (name: string) => again.headers.get(name) === response.headers.get(name)
  if (again.status !== response.status || !again.body || !same('content-length') || !same('etag') || !same('last-modified')) {
    await discard(again)
    throw new SlowReaderError(delivered)
  }
  return skipBytes(again.body, delivered, () => new SlowReaderError(delivered))
}
