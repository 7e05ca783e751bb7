// Run as a child process: fetch-http-cache in a process where the `redis` package cannot be found (a
// resolve hook hides it, as if it were not installed). Prints what each way of asking for it gave.
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'redis' || specifier.startsWith('@redis/')) {
      throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' })
    }
    return next(specifier, context)
  },
})

const { createCachedFetch, MemoryStore, MissingDependencyError, RedisStore } = await import('../../../lib/index.js')

function attempt(make: () => unknown): unknown {
  try {
    make()
    return { threw: false }
  } catch (error) {
    const e = error as InstanceType<typeof MissingDependencyError>
    return { threw: true, typed: e instanceof MissingDependencyError, code: e.code, dependency: e.dependency, message: e.message }
  }
}

const results = {
  option: attempt(() => createCachedFetch({ backend: 'redis' })),
  constructor: attempt(() => new RedisStore({ url: 'redis://127.0.0.1:1' })),
  // The package works without it for every other backend.
  memory: attempt(() => createCachedFetch({ backend: 'memory' })),
  memoryStore: attempt(() => new MemoryStore()),
}
process.stdout.write(`${JSON.stringify(results)}\n`)
