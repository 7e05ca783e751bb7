import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ForeignDirectoryError, InvalidOptionTypeError, InvalidOptionValueError } from '../../lib/errors.js'
import { FilesStore, type FilesStoreOptions, MARKER } from '../../lib/stores/files.js'
import { runWorkers, startWorker } from '../helpers/children.js'
import { makeEntry, T0 } from '../helpers/entries.js'
import { collect } from '../helpers/store-reads.js'
import { assertSameEntry, storeContract } from './contract.js'
import { entryTag, type FilesWorkerConfig, type FilesWorkerResult, SHARED_KEY } from './workers/files-worker.js'

const WORKER = join(import.meta.dirname, 'workers', 'files-worker.ts')

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fetch-http-cache-files-'))
}

storeContract(
  'FilesStore',
  async () => {
    const dir = await tempDir()
    const store = new FilesStore({ path: join(dir, 'cache') })
    return { store, cleanup: () => rm(dir, { recursive: true, force: true }) }
  },
  { keepsUnreadable: true },
)

describe('FilesStore', () => {
  const badOptions: [string, unknown, typeof InvalidOptionTypeError | typeof InvalidOptionValueError, string][] = [
    ['no options', undefined, InvalidOptionTypeError, 'options'],
    ['no path', {}, InvalidOptionTypeError, 'path'],
    ['a non-string path', { path: 5 }, InvalidOptionTypeError, 'path'],
    ['an empty path', { path: '' }, InvalidOptionValueError, 'path'],
    ['an unknown option', { path: 'fixtures', maxSize: 10 }, InvalidOptionValueError, 'maxSize'],
  ]
  for (const [what, options, type, option] of badOptions) {
    it(`refuses ${what} with a typed error naming the option`, () => {
      assert.throws(
        () => new FilesStore(options as FilesStoreOptions),
        (error: unknown) => error instanceof type && error.option === option && error.code === 'FETCH_HTTP_CACHE_INVALID_OPTION',
      )
    })
  }

  it('writes one JSON file per entry, named by host and path and a key hash, with a text body as text', async (t) => {
    const dir = await tempDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const store = new FilesStore({ path: dir })
    store.set(
      'k1',
      makeEntry({
        key: 'k1',
        url: 'https://api.example.com/things/42?x=1',
        body: new TextEncoder().encode('{"id":42}'),
        headers: [['content-type', 'application/json']],
      }),
    )
    const names = (await readdir(dir)).sort()
    assert.equal(names.length, 2)
    assert.equal(names[0], MARKER)
    assert.match(names[1] as string, /^api\.example\.com_things_42~[0-9a-f]{12}\.json$/)
    const file = JSON.parse(await readFile(join(dir, names[1] as string), 'utf8'))
    assert.equal(file.body.text, '{"id":42}')
    assert.equal(file.request.url, 'https://api.example.com/things/42?x=1')
    assert.equal(file.times.createdAt, new Date(T0 + 5).toISOString())
  })

  it('keeps a binary body as base64, byte for byte', async (t) => {
    const dir = await tempDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const store = new FilesStore({ path: dir })
    const body = new Uint8Array([0xff, 0xd8, 0x00, 0x10, 0xc3])
    store.set('img', makeEntry({ key: 'img', body, headers: [['content-type', 'image/jpeg']] }))
    const [name] = (await readdir(dir)).filter((n) => n !== MARKER)
    const file = JSON.parse(await readFile(join(dir, name as string), 'utf8'))
    assert.equal(file.body.base64, Buffer.from(body).toString('base64'))
    assert.deepEqual([...(new FilesStore({ path: dir }).get('img')?.body ?? [])], [...body])
  })

  it('refuses a directory with other files and no marker, and leaves it as it was', async (t) => {
    const dir = await tempDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'notes.txt'), 'mine')
    assert.throws(() => new FilesStore({ path: dir }), ForeignDirectoryError)
    assert.deepEqual(await readdir(dir), ['notes.txt'])
  })

  it('sees what another store on the same directory (another process) wrote and deleted', async (t) => {
    const dir = await tempDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const one = new FilesStore({ path: dir })
    const two = new FilesStore({ path: dir })
    assert.equal(one.secret, two.secret)
    assert.equal(two.get('a'), undefined)
    const entry = makeEntry({ key: 'a' })
    one.set('a', entry)
    assertSameEntry(two.get('a'), entry)
    one.delete(['a'])
    assert.equal(two.get('a'), undefined)
    assert.deepEqual(await collect(two.records()), [])
  })
})

describe('FilesStore: several processes on one directory', () => {
  it('agree on one secret, never read a torn or stale file, and leave exactly what each acknowledged', async (t) => {
    const dir = await tempDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const path = join(dir, 'shared')
    const WORKERS = 4
    const workers = Array.from({ length: WORKERS }, (_, id) => {
      const config: FilesWorkerConfig = { path, id, workers: WORKERS, ops: 600, keys: 12, seed: 42 }
      return startWorker(WORKER, [JSON.stringify(config)])
    })
    const results = (await runWorkers(workers, 60_000)) as FilesWorkerResult[]
    for (const result of results) {
      assert.deepEqual(result.errors.slice(0, 5), [], `worker ${result.id}`)
      assert.deepEqual(result.violations.slice(0, 5), [], `worker ${result.id}`)
    }
    assert.equal(new Set(results.map((r) => r.secret)).size, 1, 'one marker, one secret')
    assert.deepEqual(
      (await readdir(path)).filter((name) => name.startsWith('.') && name !== MARKER),
      [],
      'no temp file left behind',
    )
    const store = new FilesStore({ path })
    for (const result of results) {
      for (const [key, version] of Object.entries(result.state)) {
        const found = store.get(key)
        assert.equal(found && entryTag(found), version === 0 ? undefined : `${key}@${version}`, key)
      }
    }
    const shared = store.get(SHARED_KEY)
    assert.ok(shared === undefined || entryTag(shared).startsWith(`${SHARED_KEY}@`))
  })
})
