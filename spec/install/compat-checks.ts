/**
 * The combinations and checks of the install compatibility suite (issue 11), shared by the parent
 * test (spec/install/compat.test.ts) and the child that runs them (spec/install/compat-child.ts).
 * No runtime imports: the child loads this before deciding which undici loads first.
 */

/** Which undici touches the global dispatcher slot first. */
export type LoadOrder = 'bundled-first' | 'package-first'
/** The user's npm undici: `undici` (7) or `undici8` (8). */
export type UserUndici = '7' | '8'
/** When the user sets a global dispatcher of their own (a counting `Agent` of their undici). */
export type UserGlobal = 'none' | 'before' | 'after'

export interface Combination {
  order: LoadOrder
  undici: UserUndici
  global: UserGlobal
}

export const COMBINATIONS: readonly Combination[] = (['bundled-first', 'package-first'] as const).flatMap((order) =>
  (['7', '8'] as const).flatMap((undici) => (['none', 'before', 'after'] as const).map((global) => ({ order, undici, global }))),
)

export function describeCombination(c: Combination): string {
  const global = {
    none: 'no user global dispatcher',
    before: 'user global set before install',
    after: 'user global set after install',
  }
  return `${c.order}, npm undici ${c.undici}, ${global[c.global]}`
}

/** Fronts a request can go through after `installCache()`. */
export const FRONTS = {
  'builtin-fetch': 'the built-in fetch',
  'captured-fetch': 'a fetch captured before installCache()',
  'undici-request': "npm undici's request()",
  'undici-stream': "npm undici's stream()",
  'undici-fetch': "npm undici's fetch()",
} as const
export type FrontName = keyof typeof FRONTS

/** Fronts that reach the origin through the global dispatcher (not through the fetch wrapper). */
export const DISPATCHER_FRONTS: readonly FrontName[] = ['captured-fetch', 'undici-request', 'undici-stream', 'undici-fetch']

export const FAULTS = {
  refused: 'a refused connection',
  reset: 'a connection reset mid-body',
  abort: 'an aborted request',
} as const
export type FaultName = keyof typeof FAULTS

/** Fronts the faults are sent through. */
export const FAULT_FRONTS: readonly FrontName[] = ['builtin-fetch', 'undici-request', 'undici-stream', 'undici-fetch']

export const OWN_DISPATCHER_FRONTS: readonly FrontName[] = ['builtin-fetch', 'undici-request', 'undici-fetch']

/**
 * Why a caller's own dispatcher cannot carry a request through `front` in this process, without the
 * cache as with it, or `undefined` when it can; decided from versions, never from a timed run. Node's
 * own fetch (`builtin-fetch`) speaks to a dispatcher with the handlers of the undici Node bundles
 * (`process.versions.undici`): an npm undici 8 Agent rejects the handlers of undici 6 and 7
 * ("invalid onRequestStart method"), so it works there only from Node 26 (undici 8) on. npm undici's
 * own request() and fetch() always match the Agent they are given.
 */
export function ownDispatcherUnsupported(front: FrontName, user: UserUndici, bundled: string): string | undefined {
  if (front !== 'builtin-fetch' || user !== '8') return undefined
  const major = Number(bundled.split('.')[0])
  return major >= 8 ? undefined : `Node's fetch (bundled undici ${bundled}) cannot use an npm undici 8 Agent`
}

export const COMPOSED = { agent: 'an Agent', pool: 'a Pool', client: 'a Client' } as const
export type ComposedName = keyof typeof COMPOSED

export interface CheckSpec {
  id: string
  title: string
}

/**
 * The checks one child reports for a combination, in order. A global dispatcher set after install
 * replaces the cache's layer in the slot (undici defines the slots non-configurable, so no one can
 * stay in front of a later `setGlobalDispatcher()`): there, the dispatcher fronts are expected to
 * pass through the user's dispatcher unharmed, and only the fetch wrapper caches.
 */
export function checksFor(c: Combination): CheckSpec[] {
  const checks: CheckSpec[] = [
    { id: 'load-order', title: `the child set up the ${c.order} load order it was asked for` },
    { id: 'import-no-global', title: 'importing the package changes neither dispatcher slot nor globalThis.fetch' },
  ]
  for (const [front, name] of Object.entries(FRONTS) as [FrontName, string][]) {
    const passThrough = c.global === 'after' && DISPATCHER_FRONTS.includes(front)
    checks.push({
      id: `caches:${front}`,
      title: passThrough
        ? `${name} passes through the global dispatcher set after install: the origin's body and headers, and it settles`
        : `${name} caches: the second request is a hit with the origin's body, headers and Cache-Status, and every call settles`,
    })
  }
  if (c.global !== 'after') {
    checks.push(
      { id: 'shared:fetch-to-request', title: 'an entry stored through the built-in fetch is a hit for undici.request()' },
      { id: 'shared:request-to-fetch', title: 'an entry stored through undici.request() is a hit for the built-in fetch' },
    )
  }
  for (const [composed, name] of Object.entries(COMPOSED)) {
    checks.push({
      id: `interceptor:${composed}`,
      title: `cacheInterceptor() composed onto ${name} of the user's undici caches, with headers and Cache-Status`,
    })
  }
  for (const front of OWN_DISPATCHER_FRONTS) {
    checks.push({
      id: `own-dispatcher:${front}`,
      title: `a caller's own dispatcher passed to ${FRONTS[front]} carries the request`,
    })
  }
  if (c.global === 'before') {
    checks.push({
      id: 'global-before',
      title: "the user's global dispatcher set before install carries the cache's origin requests (fetch and undici.request)",
    })
  }
  if (c.global === 'after') {
    checks.push({
      id: 'global-after',
      title: 'a global dispatcher set after install carries later requests (the built-in fetch and undici.request)',
    })
  }
  for (const [fault, faultName] of Object.entries(FAULTS)) {
    for (const front of FAULT_FRONTS) {
      checks.push({
        id: `fault:${fault}:${front}`,
        title: `${faultName} through ${FRONTS[front]} rejects with the same error as without the cache, and the process lives`,
      })
    }
  }
  checks.push(
    {
      id: 'uninstall-restores',
      title: 'uninstallCache() leaves both dispatcher slots (=== or absent) and globalThis.fetch exactly as it found them',
    },
    { id: 'after-uninstall', title: 'after uninstallCache(), the built-in fetch and undici.request() work, uncached' },
    { id: 'no-uncaught', title: 'no uncaught exception or unhandled rejection in the whole child' },
    { id: 'no-warning', title: 'no process warning in the whole child' },
  )
  return checks
}

/** One check's outcome, as the child reports it (a line `check <json>` on stdout). */
export interface CheckResult {
  id: string
  ok: boolean
  detail: string
  /** Set when the check cannot apply to this combination (it fails without the cache too). */
  skip?: string
}

/** undici 8 declares `engines: node >= 22.19.0`. */
export function undici8Supported(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 19)
}
