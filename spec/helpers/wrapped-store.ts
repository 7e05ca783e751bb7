import type { Store } from '../../lib/entry/store.js'

/** A store with the core contract only, over `inner`: none of its capabilities shows through. */
export function coreOnly(inner: Store): Store {
  return {
    get secret() {
      return inner.secret
    },
    get: (key) => inner.get(key),
    set: (key, entry) => inner.set(key, entry),
    delete: (keys) => inner.delete(keys),
    clear: () => inner.clear(),
    records: () => inner.records(),
    close: () => inner.close(),
  }
}
