import assert from 'node:assert/strict'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { CacheMissError, StoreUnavailableError } from '../../lib/errors.js'
import { type CacheOptions, cacheInfo, createCachedFetch, type FilesStore, SqliteStore } from '../../lib/index.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/**
 * A cache whose settings cannot write (`readOnly`, `onlyIfCached: 'throw'`) never creates a SQLite
 * file or files directory that does not exist (README "Fixtures for tests": replaying never writes; a
 * mistyped fixtures path leaves nothing behind). It is an empty cache until a write comes, and is
 * created at the configured path by the first write after the settings change.
 */

const BACKENDS = ['files', 'sqlite'] as const
const SETTINGS: [string, Partial<CacheOptions>][] = [
  ['readOnly', { readOnly: true }],
  ["onlyIfCached: 'throw'", { onlyIfCached: 'throw' }],
]

let origin: Origin
let root: { dir: string; cleanup(): Promise<void> }
before(async () => {
  origin = await startOrigin({
    '/things': (req, res) => {
      res.setHeader('cache-control', 'max-age=600')
      res.end(`things for ${req.headers.authorization ?? 'anyone'}`)
    },
  })
  root = await tempDir()
})
after(async () => {
  await origin.close()
  await root.cleanup()
})

let n = 0
/** A cache name under a fresh directory that stays empty unless something is created there. */
async function missingPath(backend: string): Promise<{ cacheName: string; dir: string }> {
  const dir = await mkdtemp(join(root.dir, 'case-'))
  return { dir, cacheName: join(dir, `${backend}-typo-${n++}`) }
}

for (const backend of BACKENDS) {
  for (const [name, setting] of SETTINGS) {
    describe(`${backend} backend, ${name}, a path that does not exist`, () => {
      test('nothing is created: lookups miss, inspection answers as an empty cache, close works', async () => {
        const { dir, cacheName } = await missingPath(backend)
        const cachedFetch = createCachedFetch({ backend, cacheName, ...setting })
        const before = origin.count()
        if (setting.onlyIfCached === 'throw') {
          await assert.rejects(cachedFetch(`${origin.url}/things`), CacheMissError)
          assert.equal(origin.count(), before, 'replay sends nothing')
        } else {
          const response = await cachedFetch(`${origin.url}/things`)
          assert.equal(await response.text(), 'things for anyone')
          assert.equal(cacheInfo(response)?.fromCache, false)
        }
        const { cache } = cachedFetch
        assert.equal(await cache.count(), 0)
        assert.deepEqual(await cache.urls(), [])
        for await (const response of cache.responses()) assert.fail(`listed ${response.url}`)
        assert.equal(await cache.contains({ url: `${origin.url}/things` }), false)
        assert.equal(await cache.delete({ urls: [`${origin.url}/things`] }), 0)
        assert.equal(await cache.size(), 0)
        await cache.clear()
        await cache.flush()
        await cache.close()
        assert.deepEqual(await readdir(dir), [], 'nothing created')
      })

      test('the capabilities are those of the store it will be', async () => {
        const { dir, cacheName } = await missingPath(backend)
        const lazy = createCachedFetch({ backend, cacheName, ...setting })
        const real = createCachedFetch({ backend, cacheName: join(dir, 'real') })
        const present = (store: unknown) =>
          Object.entries(capabilities(store as FilesStore | SqliteStore))
            .filter(([, value]) => value !== undefined)
            .map(([key]) => key)
        assert.deepEqual(present(lazy.cache.store), present(real.cache.store))
        await lazy.cache.close()
        await real.cache.close()
        assert.deepEqual(await readdir(dir), backend === 'files' ? ['real'] : ['real.sqlite'])
      })

      test('once the settings can write, the first write creates the store there, and later requests hit', async () => {
        const { dir, cacheName } = await missingPath(backend)
        const cachedFetch = createCachedFetch({ backend, cacheName, ...setting })
        const url = `${origin.url}/things`
        const token = { headers: { authorization: 'Bearer one' } }
        // Keys made while nothing exists yet (the engine remembers them) must stay valid afterwards.
        if (setting.onlyIfCached === 'throw') await assert.rejects(cachedFetch(url, token), CacheMissError)
        else await (await cachedFetch(url, token)).text()
        assert.deepEqual(await readdir(dir), [])

        cachedFetch.settings.readOnly = false
        cachedFetch.settings.onlyIfCached = false
        const before = origin.count()
        const stored = await cachedFetch(url, token)
        assert.equal(await stored.text(), 'things for Bearer one')
        await cachedFetch.cache.flush()
        assert.notDeepEqual(await readdir(dir), [], 'created at the configured path')
        const hit = await cachedFetch(url, token)
        assert.equal(await hit.text(), 'things for Bearer one')
        assert.equal(cacheInfo(hit)?.fromCache, true)
        assert.equal(origin.count(), before + 1)
        assert.equal(await cachedFetch.cache.count(), 1)
        await cachedFetch.cache.close()

        // What is on disk was keyed with the secret the store holds: another cache on it finds it.
        const replay = createCachedFetch({ backend, cacheName, onlyIfCached: 'throw' })
        const replayed = await replay(url, token)
        assert.equal(await replayed.text(), 'things for Bearer one')
        await replay.cache.close()
        assert.equal(origin.count(), before + 1)
      })
    })
  }
}

test('a path that exists is opened as before, read-only settings included', async () => {
  const { cacheName } = await missingPath('sqlite')
  const writer = createCachedFetch({ cacheName })
  await (await writer(`${origin.url}/things`)).text()
  await writer.cache.close()
  const reader = createCachedFetch({ cacheName, readOnly: true })
  assert.ok(reader.cache.store instanceof SqliteStore)
  assert.equal(await reader.cache.count(), 1)
  await reader.cache.close()
})

for (const backend of BACKENDS) {
  test(`${backend} backend: a store created meanwhile by another cache keeps its own secret, and a write keyed before is dropped and told`, async () => {
    const { cacheName } = await missingPath(backend)
    const errors: Error[] = []
    const lazy = createCachedFetch({ backend, cacheName, readOnly: true, onError: (error) => void errors.push(error) })
    const other = createCachedFetch({ backend, cacheName }) // creates it now, under a secret of its own
    await other.cache.close()
    lazy.settings.readOnly = false
    const url = `${origin.url}/things`
    const token = { headers: { authorization: 'Bearer two' } }
    // Keyed with the secret the lazy store would have created the store with: not stored under it.
    assert.equal(await (await lazy(url, token)).text(), 'things for Bearer two')
    await lazy.cache.flush()
    assert.equal(await lazy.cache.count(), 0)
    assert.equal(errors.length, 1)
    assert.match(errors[0]?.message ?? '', /created by another process meanwhile, under its own secret: this write is dropped/)
    // From then on keys are made with the store's secret.
    await (await lazy(url, token)).text()
    await lazy.cache.flush()
    const hit = await lazy(url, token)
    assert.equal(cacheInfo(hit)?.fromCache, true)
    await hit.text()
    await lazy.cache.close()
    const reader = createCachedFetch({ backend, cacheName, onlyIfCached: 'throw' })
    assert.equal(await (await reader(url, token)).text(), 'things for Bearer two')
    await reader.cache.close()
  })
}

for (const backend of BACKENDS) {
  test(`${backend} backend: a store that cannot be created at the first write is told once, and requests go on`, async () => {
    const { dir } = await missingPath(backend)
    const file = join(dir, 'a-file')
    await writeFile(file, 'not a directory')
    const errors: Error[] = []
    const cachedFetch = createCachedFetch({
      backend,
      cacheName: join(file, 'cache'),
      readOnly: true,
      onError: (error) => void errors.push(error),
    })
    cachedFetch.settings.readOnly = false
    const url = `${origin.url}/things`
    for (let i = 0; i < 2; i++) {
      const response = await cachedFetch(url)
      assert.equal(await response.text(), 'things for anyone')
      assert.equal(cacheInfo(response)?.fromCache, false)
    }
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof StoreUnavailableError)
    assert.match(errors[0].message, /caching is off for this cache/)
    // As a store that could not be opened: inspection fails with the reason rather than claim an empty cache.
    await assert.rejects(cachedFetch.cache.count(), (error) => error === errors[0])
    await cachedFetch.cache.close()
    assert.deepEqual(await readdir(dir), ['a-file'])
  })
}
