import { AsyncLocalStorage } from 'node:async_hooks'
import type { Engine } from '../engine/engine.js'
import type { FetchFunction } from '../fronts/fetch/front.js'
import type { Cache } from '../inspect/cache.js'
import type { SlotState } from './global-dispatcher.js'
import type { NodeHttpPatch } from './node-http.js'

/** What an `enabled()` / `disabled()` block says for everything awaited inside it. */
export type Scope = ({ mode: 'on'; engine: Engine; cache: Cache } | { mode: 'off' }) & {
  /**
   * Set once the block has returned: work it started that runs later (a timer, a promise it did not
   * await) gets what applies outside it, never a block cache already closed.
   */
  ended?: boolean
  /** The scope the block was entered in. */
  parent?: Scope | undefined
}

/** The scope in effect here: the innermost block still running, or none. */
export function currentScope(state: PatchState): Scope | undefined {
  let scope = state.scope.getStore()
  while (scope?.ended) scope = scope.parent
  return scope
}

/**
 * All process-global state, under a `Symbol.for()` key so two copies of the package (say, two
 * versions in one dependency tree) see one patch and never wrap `fetch` twice.
 */
export interface PatchState {
  version: 1
  scope: AsyncLocalStorage<Scope>
  /** The cache `installCache()` set up, if any. */
  installed: { engine: Engine; cache: Cache; nodeHttp: boolean } | undefined
  /** `enabled()` blocks running that needed the patch. */
  blocks: number
  /** Set while `globalThis.fetch` and the global dispatcher are patched. */
  patch:
    | {
        fetchDescriptor: PropertyDescriptor | undefined
        originalFetch: FetchFunction
        /** The fetch front put in `globalThis.fetch`; none in a process without a global fetch. */
        wrapper: FetchFunction | undefined
        /** What the two global dispatcher slots held before, and the cache's layers in them. */
        slots: SlotState
        /** The engine the layers use: the active one while the patch is on. */
        engine: () => Engine | undefined
        /** Set while `http` and `https` are patched (`installCache({ nodeHttp: true })`). */
        nodeHttp: NodeHttpPatch | undefined
        /** Turns the layers into pass-throughs, for when they cannot be unlinked. */
        deactivate(): void
      }
    | undefined
}

const KEY = Symbol.for('fetch-http-cache.patch-state.v1')

/** The shared state, created on first use. */
export function patchState(): PatchState {
  const holder = globalThis as unknown as Record<symbol, PatchState | undefined>
  let state = holder[KEY]
  if (!state) {
    state = { version: 1, scope: new AsyncLocalStorage<Scope>(), installed: undefined, blocks: 0, patch: undefined }
    Object.defineProperty(globalThis, KEY, { value: state, enumerable: false, configurable: true, writable: false })
  }
  return state
}

/** The engine the global patch uses for the current async context, or `undefined` for none. */
export function activeEngine(): Engine | undefined {
  const state = patchState()
  const scope = currentScope(state)
  if (scope) return scope.mode === 'on' ? scope.engine : undefined
  return state.installed?.engine
}

/** The fetch that reaches the network: the original when the patch is on, else the current global. */
export function underlyingFetch(): FetchFunction {
  return patchState().patch?.originalFetch ?? (globalThis.fetch as FetchFunction)
}
