import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { createCachedFetch, MemoryStore } from '../../lib/index.js'
import { FaultyStore } from '../helpers/faulty-store.js'
import { fetchFront, readAll, undiciFront } from '../helpers/fronts.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/**
 * The default onError: one process warning per error code and cache (each cache owns the codes it
 * warned about), so a broken disk warns once instead of once per request. This file runs alone in its process (node --test gives each file one), so the
 * warnings it counts are its own; nothing here sets onError.
 *
 * The warnings are provoked on purpose, so they are captured, not printed: Node prints warnings from
 * a 'warning' listener of its own, which is set aside while this file runs. Any other warning still
 * reaches it and is printed.
 */

let origin: Origin
let dir: string
let cleanup: () => Promise<void>
const warnings: Error[] = []
const isOurs = (warning: Error) => (warning as { code?: string }).code?.startsWith('FETCH_HTTP_CACHE') === true
let printers: ((warning: Error) => void)[] = []
const onWarning = (warning: Error) => {
  if (isOurs(warning)) warnings.push(warning)
  else for (const print of printers) print(warning)
}

before(async () => {
  origin = await startOrigin()
  ;({ dir, cleanup } = await tempDir('fetch-http-cache-warnings-'))
  printers = process.listeners('warning')
  for (const print of printers) process.off('warning', print)
  process.on('warning', onWarning)
})
after(async () => {
  process.off('warning', onWarning)
  for (const print of printers) process.on('warning', print)
  await origin.close()
  await cleanup()
})

const ours = () => warnings
const settle = () => new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick

it('a store failing on every request, through both fronts: one warning per cache, and every request succeeds', async () => {
  const store = new FaultyStore(new MemoryStore()).fail('SQLITE_FULL', 'set').fail('SQLITE_IOERR', 'get')
  for (const front of [fetchFront({ backend: store }), undiciFront({ backend: store })]) {
    try {
      for (let i = 0; i < 10; i++) {
        const response = await front.get(`${origin.url}/w${i}`)
        assert.equal(await readAll(response.body), `hello /w${i}`)
      }
    } finally {
      await front.close()
    }
  }
  await settle()
  assert.ok((store.failures.get ?? 0) >= 20 && (store.failures.set ?? 0) >= 20, 'the store failed every time')
  const warned = ours()
  assert.equal(warned.length, 2, `one for each front's cache:\n${warned.map((w) => w.message).join('\n')}`)
  for (const warning of warned) {
    assert.equal(warning.name, 'FetchCacheWarning')
    assert.equal((warning as { code?: string }).code, 'FETCH_HTTP_CACHE_STORE_ERROR')
  }
})

it('a corrupt file is another code: its own warning, naming where the file was moved', async () => {
  const path = join(dir, 'corrupt.sqlite')
  await writeFile(path, randomBytes(8192))
  const cachedFetch = createCachedFetch({ cacheName: path })
  try {
    assert.equal(await (await cachedFetch(`${origin.url}/c`)).text(), 'hello /c')
  } finally {
    await cachedFetch.cache.close()
  }
  await settle()
  const corrupt = ours().filter((w) => (w as { code?: string }).code === 'FETCH_HTTP_CACHE_CORRUPT_STORE')
  assert.equal(corrupt.length, 1)
  const movedTo = corrupt[0]?.message.match(/moved it to (\S+)/)?.[1] ?? ''
  assert.ok(movedTo.startsWith(`${path}.corrupt-`), corrupt[0]?.message)
  assert.ok(existsSync(movedTo), 'the file named in the warning exists')
  assert.equal(ours().length, 3)
})
