import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { createCachedFetch } from '../../lib/index.js'
import { expandHome, sqlitePath } from '../../lib/stores/open.js'
import { tempDir } from '../helpers/origin.js'

/** `~` in cacheName and in the cache directory names the home directory, as requests-cache reads it. */
describe('~ is the home directory', () => {
  let home: string
  let cleanup: () => Promise<void>
  const saved = { HOME: process.env.HOME, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }
  before(async () => ({ dir: home, cleanup } = await tempDir()))
  after(() => cleanup())
  beforeEach(() => {
    process.env.HOME = home
    delete process.env.XDG_CACHE_HOME
  })
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })

  it('expandHome reads ~ and ~/…, and leaves ~user and a ~ inside a name alone', () => {
    assert.equal(expandHome('~'), home)
    assert.equal(expandHome('~/a/b'), join(home, 'a', 'b'))
    assert.equal(expandHome('~other/x'), '~other/x')
    assert.equal(expandHome('a/~/x'), 'a/~/x')
  })

  it("cacheName '~/…' puts the file under the home directory, and no directory named ~ appears", async () => {
    const cachedFetch = createCachedFetch({ cacheName: '~/caches/api' })
    await cachedFetch.cache.close()
    assert.ok(existsSync(join(home, 'caches', 'api.sqlite')))
    assert.equal(existsSync(join(process.cwd(), '~')), false)
  })

  it('a cache directory given with ~ (XDG_CACHE_HOME=~/…) is expanded too', () => {
    process.env.XDG_CACHE_HOME = '~/xdg'
    assert.equal(
      sqlitePath({ cacheName: 'c', useCacheDir: true, useTemp: false }),
      join(home, 'xdg', 'fetch-http-cache', 'c.sqlite'),
    )
  })
})
