import assert from 'node:assert/strict'
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createCachedFetch, UnsafeCacheFileError } from '../../lib/index.js'

/** Another user's id: `nobody`, as the tests run as root (which can give files away). */
const OTHER = 65534
const root = process.getuid?.() === 0

describe('cache files in shared places belong to this user', {
  skip: root ? false : 'needs root to give a file to another user',
}, () => {
  it('useTemp: a cache file another user created is refused with UnsafeCacheFileError', () => {
    const name = `fetch-http-cache-planted-${process.pid}-${Date.now()}`
    const file = join(tmpdir(), `${name}.sqlite`)
    writeFileSync(file, '')
    chownSync(file, OTHER, OTHER)
    try {
      assert.throws(
        () => createCachedFetch({ cacheName: name, useTemp: true }),
        (error: unknown) =>
          error instanceof UnsafeCacheFileError &&
          error.code === 'FETCH_HTTP_CACHE_UNSAFE_FILE' &&
          error.path === file &&
          error.owner === OTHER,
      )
    } finally {
      rmSync(file, { force: true })
    }
  })

  it('useTemp: a directory another user created under the temp directory is refused', () => {
    const dir = join(tmpdir(), `fetch-http-cache-planted-dir-${process.pid}-${Date.now()}`)
    mkdirSync(dir)
    chownSync(dir, OTHER, OTHER)
    try {
      assert.throws(
        () => createCachedFetch({ cacheName: `${dir.slice(tmpdir().length + 1)}/cache`, useTemp: true }),
        UnsafeCacheFileError,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("useTemp: this user's own file is used", async () => {
    const name = `fetch-http-cache-own-${process.pid}-${Date.now()}`
    const cachedFetch = createCachedFetch({ cacheName: name, useTemp: true })
    try {
      assert.equal(await cachedFetch.cache.count(), 0)
    } finally {
      await cachedFetch.cache.close()
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(tmpdir(), `${name}.sqlite${suffix}`), { force: true })
    }
  })
})
