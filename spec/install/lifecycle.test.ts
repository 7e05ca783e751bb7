import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { cacheInfo, clear, createCachedFetch, enabled, getCache, installCache, uninstallCache } from '../../lib/index.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/** Reconfiguring and scoped caches never lose a write in flight (issue 12, "Lifecycle"). */
describe('lifecycle: stores stay open for what they still serve', () => {
  let origin: Origin
  let dir: string
  let cleanup: () => Promise<void>
  let open: () => void = () => {}
  let n = 0
  const fresh = () => `${origin.url}/l${++n}`

  before(async () => {
    origin = await startOrigin({
      // Half the body, then the rest once the test opens the gate.
      '/slow': async (_req: IncomingMessage, res: ServerResponse) => {
        res.setHeader('cache-control', 'max-age=600')
        res.write('first half, ')
        await new Promise<void>((resolve) => {
          open = resolve
        })
        res.end('second half')
      },
    })
    ;({ dir, cleanup } = await tempDir())
  })
  after(async () => {
    await origin.close()
    await cleanup()
  })
  afterEach(() => uninstallCache())

  it('installCache() again while a response is being stored: the write lands in the old cache, no error', async () => {
    const errors: unknown[] = []
    const file = join(dir, 'reinstall')
    installCache({ cacheName: file, onError: (error) => errors.push(error) })
    const old = getCache()
    const response = await fetch(`${origin.url}/slow`)
    installCache({ backend: 'memory' })
    open()
    assert.equal(await response.text(), 'first half, second half')
    assert.equal(await cacheInfo(response)?.stored, true)
    // The replaced cache closes itself once its write settled; closing is idempotent: this awaits that close.
    await old?.close()
    assert.deepEqual(errors, [])
    const reopened = createCachedFetch({ cacheName: file })
    try {
      assert.equal(await reopened.cache.count(), 1, 'the old cache file holds the response')
    } finally {
      await reopened.cache.close()
    }
  })

  it('a response returned from enabled(fn, options) is stored after the block ends: three calls, one origin request', async () => {
    const url = fresh()
    const file = join(dir, 'enabled')
    for (let i = 0; i < 3; i++) {
      const response = await enabled(() => fetch(url), { cacheName: file })
      assert.equal(await response.text(), `hello /l${n}`)
      await cacheInfo(response)?.stored
    }
    assert.equal(origin.count(`/l${n}`), 1)
  })

  it('work an enabled(fn, options) block started that runs after it ended uses the installed cache, not the closed block cache', async () => {
    const url = fresh()
    installCache({ backend: 'memory' })
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      let later!: () => void
      const go = new Promise<void>((resolve) => (later = resolve))
      let late!: Promise<(boolean | undefined)[]>
      await enabled(
        () => {
          late = go.then(async () => {
            const fromCache: (boolean | undefined)[] = []
            for (let i = 0; i < 2; i++) {
              const response = await fetch(url)
              await response.text()
              await cacheInfo(response)?.stored
              fromCache.push(cacheInfo(response)?.fromCache)
            }
            return fromCache
          })
        },
        { cacheName: join(dir, 'late') },
      )
      later()
      assert.deepEqual(await late, [false, true])
      assert.equal(await getCache()?.count(), 1, 'stored in the installed cache')
      assert.equal(origin.count(`/l${n}`), 1)
      assert.deepEqual(warnings, [])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('inside enabled() with nothing installed, getCache() is the block cache and clear() empties it', async () => {
    const url = fresh()
    assert.equal(getCache(), undefined)
    await enabled(
      async () => {
        await (await fetch(url)).text()
        const cache = getCache()
        assert.ok(cache, 'the block cache is reachable')
        assert.equal(await cache.count(), 1)
        await clear()
        assert.equal(await cache.count(), 0)
      },
      { backend: 'memory' },
    )
    assert.equal(getCache(), undefined, 'outside the block, nothing')
  })
})
