import type { Engine } from './engine.js'
import type { Store } from './stores/store.js'

/**
 * The inspection and maintenance API of one cache (`cachedFetch.cache`, `getCache()`).
 */
export class Cache {
  readonly #engine: Engine
  readonly #owned: boolean

  constructor(engine: Engine, owned: boolean) {
    this.#engine = engine
    this.#owned = owned
  }

  /** The store entries live in. */
  get store(): Store {
    return this.#engine.store
  }

  /** Deletes every entry. */
  async clear(): Promise<void> {
    await this.#engine.store.clear()
  }

  /** How many responses are stored. */
  async count(): Promise<number> {
    let count = 0
    for await (const record of this.#engine.store.records()) if (record.entry?.kind === 'response') count++
    return count
  }

  /** Closes the store (only when the cache opened it; a store passed in stays the caller's). */
  async close(): Promise<void> {
    if (this.#owned) await this.#engine.store.close()
  }
}
