import type { TestContext } from 'node:test'
import * as undici7 from 'undici'
import * as undici8 from 'undici8'
import { type CacheInterceptor, type CacheOptions, cacheInterceptor } from '../../lib/index.js'

/** npm undici, in the shape of 7 (8's types differ in places the tests do not touch). */
export type Undici = typeof undici7

/**
 * npm undici 7 and 8, each a test runs through: 7's `request()` hands the cache a legacy handler
 * (`onHeaders`, `onComplete`), 8's a new one (`onResponseStart`, `onResponseEnd`).
 */
export const UNDICI_VERSIONS: readonly (readonly [name: string, undici: Undici])[] = [
  ['undici 7', undici7],
  ['undici 8', undici8 as unknown as Undici],
]

/**
 * An Agent of `undici` with a fresh cache interceptor outermost, and `below` between it and the origin
 * (undici applies the last interceptor outermost); the agent and the cache are closed after the test.
 */
export function cachedAgent(
  t: TestContext,
  undici: Undici,
  options: CacheOptions = {},
  ...below: Parameters<undici7.Agent['compose']>
): { agent: undici7.Dispatcher; interceptor: CacheInterceptor } {
  const interceptor = cacheInterceptor({ backend: 'memory', ...options })
  const agent = new undici.Agent().compose(...below, interceptor)
  t.after(async () => {
    await agent.close()
    await interceptor.cache.close()
  })
  return { agent, interceptor }
}
