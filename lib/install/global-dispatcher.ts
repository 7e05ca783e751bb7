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
}

/** What each slot held: its own property descriptor, or `undefined` when absent. */
export type SlotState = readonly [PropertyDescriptor | undefined, PropertyDescriptor | undefined]

const holder = globalThis as unknown as Record<symbol, unknown>

export function readSlots(): SlotState {
  return [Object.getOwnPropertyDescriptor(globalThis, SLOTS[0]), Object.getOwnPropertyDescriptor(globalThis, SLOTS[1])]
}

function isDispatcher(value: unknown): value is AnyDispatcher {
  return typeof (value as AnyDispatcher | undefined)?.dispatch === 'function'
}

/**
 * Puts the cache in front of the dispatcher in each slot. Node creates its own global dispatcher
 * when its fetch first loads: that is asked for first, and no Agent of ours is ever created.
 * Returns what was there, for `restoreSlots`, and the wrappers now installed.
 */
export function wrapSlots(resolveEngine: () => Engine | undefined): { saved: SlotState; wrappers: CachingDispatcher[] } {
  void globalThis.fetch // loads Node's bundled undici, which sets its dispatcher if none is set
  const saved = readSlots()
  const [one, two] = [holder[SLOTS[0]], holder[SLOTS[1]]]
  const base1 = isDispatcher(one) ? one : isDispatcher(two) ? two : undefined
  const base2 = isDispatcher(two) ? two : base1
  if (!base1 || !base2) return { saved, wrappers: [] }
  const wrapper1 = new CachingDispatcher(base1, resolveEngine)
  const wrapper2 = base2 === base1 ? wrapper1 : new CachingDispatcher(base2, resolveEngine)
  setSlot(SLOTS[0], wrapper1, saved[0])
  setSlot(SLOTS[1], wrapper2, saved[1])
  return { saved, wrappers: wrapper1 === wrapper2 ? [wrapper1] : [wrapper1, wrapper2] }
}

function setSlot(slot: symbol, value: unknown, existing: PropertyDescriptor | undefined): void {
  if (existing?.writable) holder[slot] = value
  // undici defines its slots non-configurable but writable; an absent slot is made configurable so
  // that uninstalling can remove it again.
  else if (!existing) Object.defineProperty(globalThis, slot, { value, writable: true, enumerable: false, configurable: true })
  else if (existing.configurable) Object.defineProperty(globalThis, slot, { ...existing, value })
}

/**
 * Restores each slot that still holds one of our wrappers to exactly what it held before (removed
 * when it was absent). A slot someone set since (`setGlobalDispatcher()` after install) is theirs.
 */
export function restoreSlots(saved: SlotState, wrappers: readonly CachingDispatcher[]): void {
  SLOTS.forEach((slot, i) => {
    const current = holder[slot]
    if (!wrappers.some((wrapper) => wrapper === current)) return
    const before = saved[i]
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
export class CachingDispatcher extends EventEmitter {
  readonly #base: AnyDispatcher
  readonly #resolveEngine: () => Engine | undefined

  constructor(base: AnyDispatcher, resolveEngine: () => Engine | undefined) {
    super()
    this.#base = base
    this.#resolveEngine = resolveEngine
  }

  /** The dispatcher this one wraps. */
  get wrapped(): AnyDispatcher {
    return this.#base
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: unknown): boolean {
    const base = this.#base
    return dispatchThroughCache((o, h) => base.dispatch(o, h), this.#resolveEngine(), opts, handler as AnyHandler)
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

let undici: typeof import('undici') | undefined

/** npm undici, loaded on demand (never on the install path), once. */
function requireUndici(): typeof import('undici') {
  undici ??= createRequire(import.meta.url)('undici') as typeof import('undici')
  return undici
}
