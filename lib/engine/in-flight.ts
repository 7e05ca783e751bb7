import type { OriginResponse, Outcome } from './outcome.js'

/**
 * How many invalidated URLs are remembered for the requests in flight: an answer still arriving after
 * this many later invalidations may be stored (bounded memory, for a process that invalidates forever).
 */
const MAX_INVALIDATED = 4096

/** One caller waiting on a coalesced origin request. */
export interface Member {
  resolve(outcome: Outcome): void
  reject(error: unknown): void
  signal: AbortSignal | undefined
  /** Sends this caller's own request to the origin (when it fell behind the others). */
  refetch(signal: AbortSignal | undefined): Promise<OriginResponse>
  /**
   * This caller's own exchange, when the shared answer may not be reused for it: with `afterStore`,
   * the entry that answer is stored as, once it is (else the origin), as a later request would.
   */
  alone(afterStore: boolean): Promise<Outcome>
  /** The caller whose request the flight sends (it gets the answer whatever it is). */
  leads: boolean
}

/** One origin request that identical concurrent misses share (engine/coalescing.ts). */
export interface Flight {
  members: Member[]
  controller: AbortController
  /** The request URL as given: what an invalidation names, once normalized. */
  url: string
}

/** What an engine has in flight, counted. */
export interface InFlightCounts {
  /** Requests being served: from the start of an exchange until its answer no longer needs the store. */
  readonly requests: number
  /** Coalesced origin requests. */
  readonly flights: number
  /** Bodies being recorded for storing, that identical requests wait for. */
  readonly recordings: number
  /** Background refreshes (stale-while-revalidate). */
  readonly refreshes: number
}

/**
 * Everything one engine has in flight, typed and in one place: the requests it serves (closing a store
 * waits for them), coalesced misses, bodies being recorded, background refreshes. Owned by the engine,
 * so two caches never share any of it.
 */
export class InFlight {
  readonly #flights = new Map<string, Flight>()
  /** Bumped by every invalidation; a request keyed after it carries the new value. */
  #epoch = 0
  /** The epoch at which each normalized URL was last invalidated (the most recent {@link MAX_INVALIDATED}). */
  readonly #invalidated = new Map<string, number>()
  readonly #recordings = new Map<string, { done: Promise<void>; url: string }>()
  readonly #refreshes = new Set<string>()
  #requests = 0
  #idle: (() => void)[] = []

  /** How much is in flight now. */
  get counts(): InFlightCounts {
    return {
      requests: this.#requests,
      flights: this.#flights.size,
      recordings: this.#recordings.size,
      refreshes: this.#refreshes.size,
    }
  }

  /** Counts one request in; call {@link release} once it no longer needs the store. */
  hold(): void {
    this.#requests++
  }

  release(): void {
    if (--this.#requests > 0) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /** Whether any request is being served. */
  get busy(): boolean {
    return this.#requests > 0
  }

  /** Resolves once no request is being served (at once when none is). */
  settled(): Promise<void> {
    if (this.#requests === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /** The coalesced origin request for `key`, if one is running. */
  flight(key: string): Flight | undefined {
    return this.#flights.get(key)
  }

  startFlight(key: string, flight: Flight): void {
    this.#flights.set(key, flight)
  }

  /** Ends `flight`, unless an invalidation already took it out (and another may run under `key`). */
  endFlight(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key)
  }

  /** The invalidations so far: a request keeps it from when it was keyed (see {@link invalidatedSince}). */
  get epoch(): number {
    return this.#epoch
  }

  /**
   * RFC 9111 §4.4, for what is still in flight: an answer to a request sent before its URL (one of
   * `urls`, as `normalize` gives them) was invalidated is not the state after the unsafe request, whoever sent it
   * (every credential partition). A request made from now on neither joins nor waits for such an
   * answer (its flight and recording are forgotten here), and the answer is not stored
   * ({@link invalidatedSince}): the caller that asked before still gets it.
   */
  invalidate(urls: readonly string[], normalize: (url: string) => string): void {
    const epoch = ++this.#epoch
    const named = new Set(urls)
    for (const url of named) {
      this.#invalidated.delete(url)
      this.#invalidated.set(url, epoch)
    }
    for (const [key, recording] of this.#recordings) if (named.has(normalize(recording.url))) this.#recordings.delete(key)
    for (const [key, flight] of this.#flights) if (named.has(normalize(flight.url))) this.#flights.delete(key)
    for (const url of this.#invalidated.keys()) {
      if (this.#invalidated.size <= MAX_INVALIDATED) break
      this.#invalidated.delete(url)
    }
  }

  /**
   * Whether the URL of a request keyed at `epoch` was invalidated since (so its answer is not stored);
   * `url` gives it normalized, asked only when some invalidation happened since.
   */
  invalidatedSince(epoch: number, url: () => string): boolean {
    return this.#epoch > epoch && (this.#invalidated.get(url()) ?? 0) > epoch
  }

  /** Resolves once the body being recorded under `baseKey` is stored (or waiting is over), if one is. */
  recording(baseKey: string): Promise<void> | undefined {
    return this.#recordings.get(baseKey)?.done
  }

  /** Marks a body as recorded under `baseKey` (for the request URL `url`) until `done` settles. */
  startRecording(baseKey: string, url: string, done: Promise<void>): void {
    const recording = { done, url }
    this.#recordings.set(baseKey, recording)
    void done.then(() => {
      if (this.#recordings.get(baseKey) === recording) this.#recordings.delete(baseKey)
    })
  }

  /** Claims the one background refresh of a key; `false` when one is already running. */
  startRefresh(baseKey: string): boolean {
    if (this.#refreshes.has(baseKey)) return false
    this.#refreshes.add(baseKey)
    return true
  }

  endRefresh(baseKey: string): void {
    this.#refreshes.delete(baseKey)
  }
}
