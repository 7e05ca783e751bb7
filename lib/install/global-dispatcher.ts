import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import type { Dispatcher } from 'undici'
import type { Engine } from '../engine/engine.js'
import { dispatchThroughCache } from '../fronts/dispatcher/front.js'
import type { AnyHandler } from '../fronts/dispatcher/handlers.js'

/**
 * undici's global dispatcher, whichever undici put it there (lib/README.md, "Any undici"). undici 6
 * and 7 read `Symbol.for('undici.globalDispatcher.1')`; undici 8 reads `.2` and keeps a wrapper for
 * older readers in `.1`; undici 7 writes the same Agent to both. Each slot is remembered and
 * restored on its own, and npm undici is never imported here (types only): the dispatcher in a slot
 * is whatever the process made.
 */

const SLOTS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')] as const

/** A dispatcher as found in a slot: any undici's, or anything with `dispatch`. */
export interface AnyDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: unknown): boolean
  close?(...args: unknown[]): unknown
  destroy?(...args: unknown[]): unknown
  readonly closed?: boolean
  readonly destroyed?: boolean
}

/** One slot: what it held before the cache's layer went in (`undefined`: absent), and that layer. */
export interface SlotRecord {
  before: PropertyDescriptor | undefined
  layer: CachingDispatcher | undefined
}

/** Both slots, `.1` then `.2`. */
export type SlotState = readonly [SlotRecord, SlotRecord]

const holder = globalThis as unknown as Record<symbol, unknown>

function isDispatcher(value: unknown): value is AnyDispatcher {
  return typeof (value as AnyDispatcher | undefined)?.dispatch === 'function'
}

/**
 * Puts the cache in front of the dispatcher in each slot, so that whatever undici reads a slot later
 * finds the cache there. Both slots are filled, whatever has loaded: undici 7 and 8 create an Agent
 * when they load only into an empty slot, and the built-in fetch (a function captured before
 * install included) reads the slot on every call. Node's own dispatcher is asked for first, by
 * reading `globalThis.Headers`: that loads Node's bundled undici, which sets its dispatcher if none
 * is set (reading `globalThis.fetch` does not: on Node 22-26 it is a plain function that loads undici
 * on its first call). No Agent of ours is ever created.
 *
 * With `previous` (a second `installCache()`), a slot that still holds the cache's layer keeps it,
 * and a slot someone has set since (`setGlobalDispatcher()`) gets a layer of its own over theirs.
 */
export function wrapSlots(resolveEngine: () => Engine | undefined, previous?: SlotState): SlotState {
  void globalThis.Headers
  const values = [holder[SLOTS[0]], holder[SLOTS[1]]] as const
  const kept = (i: 0 | 1) => previous?.[i].layer !== undefined && values[i] === previous[i].layer
  if (previous && kept(0) && kept(1)) return previous
  const one = isDispatcher(values[0]) ? values[0] : undefined
  const two = isDispatcher(values[1]) ? values[1] : undefined
  const base1 = one ?? two
  const base2 = two ?? base1
  if (!base1 || !base2)
    return (
      previous ?? [
        { before: readSlot(0), layer: undefined },
        { before: readSlot(1), layer: undefined },
      ]
    )
  // A slot that was empty borrows the other's dispatcher: requests through it pass translated.
  const layer1 =
    previous && kept(0)
      ? (previous[0].layer as CachingDispatcher)
      : new CachingDispatcher(base1, resolveEngine, one !== undefined)
  const layer2 =
    previous && kept(1)
      ? (previous[1].layer as CachingDispatcher)
      : base2 === base1 && !kept(0) && one !== undefined && two !== undefined
        ? layer1
        : new CachingDispatcher(base2, resolveEngine, two !== undefined)
  const records: SlotState = [
    kept(0) && previous ? previous[0] : { before: readSlot(0), layer: layer1 },
    kept(1) && previous ? previous[1] : { before: readSlot(1), layer: layer2 },
  ]
  if (!kept(0)) setSlot(SLOTS[0], layer1, records[0].before)
  if (!kept(1)) setSlot(SLOTS[1], layer2, records[1].before)
  return records
}

function readSlot(i: 0 | 1): PropertyDescriptor | undefined {
  return Object.getOwnPropertyDescriptor(globalThis, SLOTS[i])
}

function setSlot(slot: symbol, value: unknown, existing: PropertyDescriptor | undefined): void {
  if (existing?.writable) holder[slot] = value
  // undici defines its slots non-configurable but writable; an absent slot is made configurable so
  // that uninstalling can remove it again.
  else if (!existing) Object.defineProperty(globalThis, slot, { value, writable: true, enumerable: false, configurable: true })
  else if (existing.configurable) Object.defineProperty(globalThis, slot, { ...existing, value })
}

/**
 * Restores each slot that still holds the cache's layer to exactly what it held before (removed when
 * it was absent). A slot someone set since (`setGlobalDispatcher()` after install) is theirs: undici
 * sets a slot with `Object.defineProperty`, which no accessor of ours could intercept (a
 * non-configurable one makes undici 7's `setGlobalDispatcher()` throw and undici 8's keep the
 * dispatcher aside; a configurable one is replaced).
 */
export function restoreSlots(records: SlotState): void {
  SLOTS.forEach((slot, i) => {
    const { before, layer } = records[i] as SlotRecord
    if (layer === undefined || holder[slot] !== layer) return
    if (before === undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, slot)
      if (descriptor?.configurable) Reflect.deleteProperty(globalThis, slot)
      else holder[slot] = undefined
    } else if (Object.getOwnPropertyDescriptor(globalThis, slot)?.writable) holder[slot] = before.value
    else Object.defineProperty(globalThis, slot, before)
  })
}

/**
 * The cache in front of a dispatcher found in a global slot. Its own class (never another undici's
 * `compose()`), so it speaks both handler APIs to callers and the wrapped dispatcher's own to it.
 * The request helpers (`request`, `stream`, …) are the wrapped dispatcher's, run with this as `this`,
 * so they dispatch through the cache.
 */
class CachingDispatcher extends EventEmitter {
  readonly #base: AnyDispatcher
  readonly #resolveEngine: () => Engine | undefined
  readonly #native: boolean

  /**
   * `native`: the slot held `base` before install, so whatever reads the slot would have handed its
   * handlers to `base` without the cache, and a request the cache stays out of can go to it as it is.
   * A slot that was empty holds the other slot's dispatcher, which may be another undici's: there a
   * passed-through handler is translated to the API `base` speaks (fronts/dispatcher/upstream.ts).
   */
  constructor(base: AnyDispatcher, resolveEngine: () => Engine | undefined, native: boolean) {
    super()
    this.#base = base
    this.#resolveEngine = resolveEngine
    this.#native = native
    readThrough(this, base)
  }

  /** The dispatcher this one wraps. */
  get wrapped(): AnyDispatcher {
    return this.#base
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: unknown): boolean {
    const base = this.#base
    // Closed or destroyed: no request is answered, not even from the cache; the wrapped dispatcher
    // refuses it with its own error (ClientClosedError, ClientDestroyedError), as without the cache.
    if (base.closed === true || base.destroyed === true) return base.dispatch(opts, handler)
    return dispatchThroughCache((o, h) => base.dispatch(o, h), this.#resolveEngine(), opts, handler as AnyHandler, this.#native)
  }

  close(...args: unknown[]): unknown {
    return this.#base.close?.(...args)
  }

  destroy(...args: unknown[]): unknown {
    return this.#base.destroy?.(...args)
  }

  compose(...interceptors: unknown[]): unknown {
    return this.#borrow('compose', interceptors)
  }
  request(...args: unknown[]): unknown {
    return this.#borrow('request', args)
  }
  stream(...args: unknown[]): unknown {
    return this.#borrow('stream', args)
  }
  pipeline(...args: unknown[]): unknown {
    return this.#borrow('pipeline', args)
  }
  connect(...args: unknown[]): unknown {
    return this.#borrow('connect', args)
  }
  upgrade(...args: unknown[]): unknown {
    return this.#borrow('upgrade', args)
  }

  // Older undici read WebSocket and EventSource limits from the global dispatcher.
  get webSocketOptions(): unknown {
    return (this.#base as { webSocketOptions?: unknown }).webSocketOptions
  }
  get eventSourceOptions(): unknown {
    return (this.#base as { eventSourceOptions?: unknown }).eventSourceOptions
  }

  #borrow(name: string, args: unknown[]): unknown {
    let method = (this.#base as unknown as Record<string, unknown>)[name]
    // Node's bundled undici has no request API: a caller asking the global dispatcher for it gets
    // undici's own (our dependency), loaded only then, running over this dispatcher.
    if (typeof method !== 'function') method = (requireUndici().Dispatcher.prototype as unknown as Record<string, unknown>)[name]
    if (typeof method !== 'function') throw new TypeError(`the global dispatcher has no ${name}()`)
    return method.apply(this, args)
  }
}

/**
 * What the wrapped dispatcher has beyond the dispatcher API reads through to it: a MockAgent's
 * `isMockActive` (fetch reads it from the global dispatcher to hand a request body over as the mock
 * matches it), its `get()`, `disableNetConnect()`, `assertNoPendingInterceptors()`…
 */
function readThrough(layer: CachingDispatcher, base: AnyDispatcher): void {
  for (let proto = Object.getPrototypeOf(base); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name in layer) continue
      Object.defineProperty(layer, name, {
        get() {
          const value = (base as unknown as Record<string, unknown>)[name]
          return typeof value === 'function' ? value.bind(base) : value
        },
        configurable: true,
      })
    }
  }
}

let undici: typeof import('undici') | undefined

/** npm undici, loaded on demand (never on the install path), once. */
function requireUndici(): typeof import('undici') {
  undici ??= createRequire(import.meta.url)('undici') as typeof import('undici')
  return undici
}
