import type { Dispatcher } from 'undici'
import type { Engine } from '../engine/engine.js'
import { InvalidOptionTypeError } from '../errors.js'
import { createInterceptor } from '../fronts/dispatcher/front.js'
import { createFetchFront, type FetchFunction } from '../fronts/fetch/front.js'
import { Cache } from '../inspect/cache.js'
import type { CacheOptions } from '../options/types.js'
import { restoreSlots, wrapSlots } from './global-dispatcher.js'
import { patchNodeHttp, unpatchNodeHttp } from './node-http.js'
import { createEngine } from './session.js'
import { activeEngine, currentScope, type PatchState, patchState, type Scope } from './state.js'

/** What `installCache()` takes: the cache's options, and which fronts to put in place. */
export interface InstallOptions extends CacheOptions {
  /**
   * Also cache `http.request()` / `http.get()` / `https.request()` / `https.get()`, which axios,
   * got, node-fetch, superagent, needle and most SDKs use (the node:http front). Off by default.
   */
  nodeHttp?: boolean
}

/**
 * Caches every `fetch()` and every undici request in the process: replaces `globalThis.fetch` and
 * puts the cache in front of undici's global dispatcher (with `nodeHttp: true`, `http`/`https` too).
 * A second call reconfigures.
 *
 * @example
 * installCache({ expireAfter: '10m' })
 * await fetch('https://example.com/data.json') // stored
 * await fetch('https://example.com/data.json') // served from the cache
 */
export function installCache(options?: InstallOptions): void {
  const state = patchState()
  const { nodeHttp, ...cacheOptions } = options ?? {}
  if (nodeHttp !== undefined && typeof nodeHttp !== 'boolean') throw new InvalidOptionTypeError('nodeHttp', nodeHttp, 'a boolean')
  const { engine, owned } = createEngine(options === undefined ? undefined : cacheOptions)
  const previous = state.installed
  const cache = new Cache(engine, owned)
  state.installed = { engine, cache, nodeHttp: nodeHttp === true }
  try {
    applyPatch()
  } catch (error) {
    // Nothing half-installed: the previous cache (or none) stays in effect.
    state.installed = previous
    closeLater(engine, cache)
    throw error
  }
  // Reconfiguring: the previous cache stays usable by requests in flight; its store closes once they settled.
  if (previous) closeLater(previous.engine, previous.cache)
}

/** Removes the cache installed by `installCache()` and restores the original `fetch` and dispatcher. */
export function uninstallCache(): void {
  const state = patchState()
  const installed = state.installed
  state.installed = undefined
  if (state.blocks === 0) removePatch()
  else if (state.patch) syncNodeHttp(state.patch)
  if (installed) closeLater(installed.engine, installed.cache)
}

/** Whether `installCache()` is in effect. */
export function isInstalled(): boolean {
  return patchState().installed !== undefined
}

/**
 * The cache requests made here use: inside an `enabled()` block, the block's; elsewhere the installed
 * one; `undefined` when there is none.
 */
export function getCache(): Cache | undefined {
  const state = patchState()
  const scope = currentScope(state)
  return scope?.mode === 'on' ? scope.cache : state.installed?.cache
}

/** Empties the cache {@link getCache} names (does nothing when there is none). */
export async function clear(): Promise<void> {
  await getCache()?.clear()
}

let defaultCache: { engine: Engine; cache: Cache } | undefined

/**
 * Caches requests made inside `fn` (everything it awaits), and nothing running concurrently outside.
 * Installs the patch for the block when it is not installed. With `options`, the block uses a cache
 * of its own, closed once the block has ended and the responses it produced have been stored (or
 * given up): a response returned from the block is still stored after it ends.
 *
 * @example
 * const data = await enabled(async () => (await fetch(url)).json(), { backend: 'memory' })
 */
export async function enabled<T>(fn: () => T | Promise<T>, options?: CacheOptions): Promise<T> {
  const state = patchState()
  let own: { engine: Engine; cache: Cache } | undefined
  let use: { engine: Engine; cache: Cache }
  if (options !== undefined) {
    const created = createEngine(options)
    own = { engine: created.engine, cache: new Cache(created.engine, created.owned) }
    use = own
  } else if (state.installed) {
    use = state.installed
  } else {
    if (!defaultCache) {
      const created = createEngine(undefined)
      defaultCache = { engine: created.engine, cache: new Cache(created.engine, false) }
    }
    use = defaultCache
  }
  state.blocks++
  applyPatch()
  const scope: Scope = { mode: 'on', engine: use.engine, cache: use.cache, parent: currentScope(state) }
  try {
    return await state.scope.run(scope, async () => fn())
  } finally {
    scope.ended = true
    state.blocks--
    if (state.blocks === 0 && !state.installed) removePatch()
    if (own) {
      // Nothing in flight: closed before returning, as always; otherwise once it has settled.
      if (own.engine.inFlight.busy) closeLater(own.engine, own.cache)
      else await own.cache.close()
    }
  }
}

/** Bypasses the cache for requests made inside `fn`, and for nothing running concurrently outside. */
export async function disabled<T>(fn: () => T | Promise<T>): Promise<T> {
  const state = patchState()
  const scope: Scope = { mode: 'off', parent: currentScope(state) }
  try {
    return await state.scope.run(scope, async () => fn())
  } finally {
    scope.ended = true
  }
}

/** An undici interceptor with a cache of its own, from {@link cacheInterceptor}. */
export interface CacheInterceptor extends Dispatcher.DispatcherComposeInterceptor {
  /** Inspection and maintenance of this interceptor's cache: the API of `createCachedFetch().cache`. */
  readonly cache: Cache
}

/**
 * The cache as an undici interceptor, for code that composes dispatchers by hand. It uses a cache of
 * its own, made from `options`, inspected and closed through `.cache`.
 *
 * @example
 * const interceptor = cacheInterceptor({ backend: 'memory' })
 * const agent = new Agent().compose(interceptor)
 * await interceptor.cache.count()
 */
export function cacheInterceptor(options?: CacheOptions): CacheInterceptor {
  const { engine, owned } = createEngine(options)
  const interceptor = createInterceptor(() => (currentScope(patchState())?.mode === 'off' ? undefined : engine))
  return Object.defineProperty(interceptor, 'cache', { value: new Cache(engine, owned), enumerable: true }) as CacheInterceptor
}

function applyPatch(): void {
  const state = patchState()
  if (state.patch) {
    // Reconfiguring: a slot set since install (setGlobalDispatcher()) gets the cache in front of it.
    state.patch.slots = wrapSlots(state.patch.engine, state.patch.slots)
    syncNodeHttp(state.patch)
    return
  }
  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
  const originalFetch = globalThis.fetch as FetchFunction
  // Once removed, these layers pass straight through to what they wrapped, for good: a wrapper someone
  // put over ours keeps working, and a later install wraps anew without looping back into us.
  let active = true
  const engine = () => (active ? activeEngine() : undefined)
  // A process without a global fetch (Node 22's --no-experimental-fetch) keeps it absent: undici is still cached.
  const wrapper = typeof originalFetch === 'function' ? fetchWrapper(engine, originalFetch) : undefined
  const slots = wrapSlots(engine)
  const deactivate = () => {
    active = false
  }
  state.patch = { fetchDescriptor, originalFetch, wrapper, slots, engine, nodeHttp: undefined, deactivate }
  syncNodeHttp(state.patch)
  if (!wrapper) return
  Object.defineProperty(globalThis, 'fetch', {
    value: wrapper,
    writable: fetchDescriptor?.writable ?? true,
    enumerable: fetchDescriptor?.enumerable ?? true,
    configurable: fetchDescriptor?.configurable ?? true,
  })
}

/** The fetch front over the original fetch, with its `name` and `length`. */
function fetchWrapper(engine: () => Engine | undefined, originalFetch: FetchFunction): FetchFunction {
  const wrapper = createFetchFront({ engine, baseFetch: () => originalFetch })
  return Object.defineProperties(wrapper, {
    name: { value: originalFetch.name, configurable: true },
    length: { value: originalFetch.length, configurable: true },
  })
}

function removePatch(): void {
  const state = patchState()
  const patch = state.patch
  if (!patch) return
  state.patch = undefined
  patch.deactivate()
  // Someone wrapped fetch after us: leave their wrapper (ours inside it now passes straight through).
  if (patch.wrapper && globalThis.fetch === patch.wrapper) {
    if (patch.fetchDescriptor) Object.defineProperty(globalThis, 'fetch', patch.fetchDescriptor)
    else Reflect.deleteProperty(globalThis, 'fetch')
  }
  restoreSlots(patch.slots)
  if (patch.nodeHttp) unpatchNodeHttp(patch.nodeHttp)
}

/** Puts the node:http front in place or takes it away, as the installed cache's `nodeHttp` says. */
function syncNodeHttp(patch: NonNullable<PatchState['patch']>): void {
  const wanted = patchState().installed?.nodeHttp === true
  if (wanted && !patch.nodeHttp) patch.nodeHttp = patchNodeHttp(patch.engine)
  else if (!wanted && patch.nodeHttp) {
    unpatchNodeHttp(patch.nodeHttp)
    patch.nodeHttp = undefined
  }
}

/**
 * Closes a cache no longer in use once the requests it serves have settled (their writes done); a
 * close that fails (its pending writes) is reported, never thrown.
 */
function closeLater(engine: Engine, cache: Cache): void {
  engine.inFlight
    .settled()
    .then(() => cache.close())
    .catch((error: unknown) => engine.report(error, 'close'))
}
