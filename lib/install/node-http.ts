import type { Engine } from '../engine/engine.js'
import { cachedGet, cachedRequest, type RequestFunction } from '../fronts/node-http/front.js'

/**
 * The node:http front's patch (lib/README.md, "The node:http front"): `request` and `get` of `http`
 * and `https` are replaced, and restored exactly (their own property descriptors) on uninstall.
 * ESM named imports of `node:http` follow (`syncBuiltinESMExports`).
 */

const NAMES = ['request', 'get', 'request', 'get'] as const

/** The modules, looked up when patching: importing node:http loads Node's undici, and importing the package changes no global. */
function modules() {
  const http = process.getBuiltinModule('node:http')
  const https = process.getBuiltinModule('node:https')
  return { http, https, patched: [http, http, https, https] as const }
}

/** What each patched property was, and what the patch put there. */
export interface NodeHttpPatch {
  saved: readonly (PropertyDescriptor | undefined)[]
  replacements: readonly RequestFunction[]
}

/** Puts the node:http front in place; returns what it replaced. */
export function patchNodeHttp(resolveEngine: () => Engine | undefined): NodeHttpPatch {
  const { http, https, patched } = modules()
  const saved = patched.map((module, i) => Object.getOwnPropertyDescriptor(module, NAMES[i] as string))
  const deps = { engine: resolveEngine }
  const httpRequest = cachedRequest(http.request as RequestFunction, () => http.globalAgent, deps)
  const httpsRequest = cachedRequest(https.request as RequestFunction, () => https.globalAgent, deps)
  const replacements = [httpRequest, cachedGet(httpRequest), httpsRequest, cachedGet(httpsRequest)]
  patched.forEach((module, i) => {
    const before = saved[i]
    Object.defineProperty(module, NAMES[i] as string, {
      value: replacements[i],
      writable: before?.writable ?? true,
      enumerable: before?.enumerable ?? true,
      configurable: true,
    })
  })
  process.getBuiltinModule('node:module').syncBuiltinESMExports()
  return { saved, replacements }
}

/**
 * Restores `request` and `get` of `http` and `https` exactly as they were; a property someone
 * replaced since is theirs (and the cache's function inside it passes straight through).
 */
export function unpatchNodeHttp(patch: NodeHttpPatch): void {
  modules().patched.forEach((module, i) => {
    const name = NAMES[i] as string
    if ((module as unknown as Record<string, unknown>)[name] !== patch.replacements[i]) return
    const before = patch.saved[i]
    if (before) Object.defineProperty(module, name, before)
    else Reflect.deleteProperty(module, name)
  })
  process.getBuiltinModule('node:module').syncBuiltinESMExports()
}
