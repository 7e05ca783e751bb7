import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { capabilities, type MetadataStore, type Store } from '../../lib/entry/store.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { MemoryStore } from '../../lib/stores/memory.js'
import { FRONTS, forEachFront } from '../helpers/fronts.js'
import { tempDir } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { coreOnly } from '../helpers/wrapped-store.js'
import { get, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §4.4 invalidation by unsafe methods (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const prefix = () => `/inv/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  const fresh = { headers: { 'cache-control': 'max-age=3600' } }
  /** How many GETs of a path reached the origin. */
  const gets = (p: string) => r.origin.requests.filter((q) => q.method === 'GET' && q.path === p).length

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'M-SEARCH']) {
    it(`a successful ${method} invalidates its URL`, async () => {
      const p = prefix()
      r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 200, body: 'done' }))
      await get(r, p)
      await get(r, p, { method, body: 'abc' })
      await get(r, p)
      assert.equal(gets(p), 2)
    })

    it(`a failed ${method} (500) leaves the stored response alone`, async () => {
      const p = prefix()
      r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 500 }))
      await get(r, p)
      await get(r, p, { method, body: 'abc' })
      await get(r, p)
      assert.equal(gets(p), 1)
    })
  }

  it('a successful POST invalidates same-origin Location and Content-Location, relative or absolute', async () => {
    const p = prefix()
    for (const target of ['location-target', 'content-location-target']) r.answer(`${p}/${target}`, fresh)
    r.answer(`${p}/form`, {
      status: 201,
      headers: { location: 'location-target', 'content-location': r.url(`${p}/content-location-target`) },
    })
    await get(r, `${p}/location-target`)
    await get(r, `${p}/content-location-target`)
    await get(r, `${p}/form`, { method: 'POST', body: 'x' })
    await get(r, `${p}/location-target`)
    await get(r, `${p}/content-location-target`)
    assert.equal(r.origin.count(`${p}/location-target`), 2)
    assert.equal(r.origin.count(`${p}/content-location-target`), 2)
  })

  it('a 303 See Other (a non-error status) invalidates too', async () => {
    const p = prefix()
    r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 303, headers: { location: `${p}?done` } }))
    r.answer(`${p}?done`, { body: 'done' })
    await get(r, p)
    await get(r, p, { method: 'POST', body: 'x', redirect: 'manual' })
    await get(r, p)
    assert.equal(gets(p), 2)
  })

  it('does not invalidate a Location on another origin', async () => {
    const other = await rig(front)
    try {
      const p = prefix()
      other.answer(p, fresh)
      r.answer(p, { status: 200, headers: { location: other.url(p) } })
      // The other origin's response, stored in *our* cache.
      await r.front.get(other.url(p)).then((res) => res.text())
      await get(r, p, { method: 'POST', body: 'x' })
      await r.front.get(other.url(p)).then((res) => res.text())
      assert.equal(other.origin.count(p), 1)
    } finally {
      await other.close()
    }
  })

  it('invalidates every stored variant of a Vary response', async () => {
    const p = prefix()
    r.answer(p, (req) => (req.method === 'GET' ? { headers: { 'cache-control': 'max-age=3600', vary: 'foo' } } : { status: 204 }))
    await get(r, p, { headers: { foo: '1' } })
    await get(r, p, { headers: { foo: '2' } })
    await get(r, p, { method: 'DELETE' })
    await get(r, p, { headers: { foo: '1' } })
    await get(r, p, { headers: { foo: '2' } })
    assert.equal(gets(p), 4)
  })

  it('a safe method (OPTIONS) invalidates nothing', async () => {
    const p = prefix()
    r.answer(p, fresh)
    await get(r, p)
    await get(r, p, { method: 'OPTIONS' })
    await get(r, p)
    assert.equal(gets(p), 1)
  })
})

/** A store for the partition tests: the options that open it, fresh per rig. */
interface PartitionStore {
  name: string
  skip: string | undefined
  /** Whether invalidation reaches every credential partition (a URL index or a metadata scan), or only the sender's and the anonymous one. */
  everyPartition: boolean
  options(): Promise<CacheOptions>
  tearDown(): Promise<void>
}

function onDisk(backend: 'sqlite' | 'files'): PartitionStore {
  const dirs: { cleanup(): Promise<void> }[] = []
  return {
    name: backend,
    skip: undefined,
    everyPartition: true,
    async options() {
      const dir = await tempDir()
      dirs.push(dir)
      return { backend, cacheName: join(dir.dir, 'cache') }
    },
    async tearDown() {
      for (const dir of dirs.splice(0)) await dir.cleanup()
    },
  }
}

const redisStore: PartitionStore = (() => {
  let server: RedisServer | undefined
  return {
    name: 'redis',
    skip: redisMissing,
    everyPartition: true,
    async options() {
      server ??= await startRedis()
      return { backend: 'redis', redis: { url: server.url, prefix: uniquePrefix('inv'), commandTimeout: 10_000 } }
    },
    async tearDown() {
      await server?.stop()
      server = undefined
    },
  }
})()

/** A memory store showing its metadata but not its URL index: invalidation reads every row's metadata. */
function withoutUrlIndex(inner: MemoryStore): Store & MetadataStore {
  return { ...coreOnly(inner), getMeta: (key) => inner.getMeta(key), metaRecords: () => inner.metaRecords() }
}

const PARTITION_STORES: readonly PartitionStore[] = [
  {
    name: 'memory',
    skip: undefined,
    everyPartition: true,
    options: async () => ({ backend: 'memory' }),
    tearDown: async () => {},
  },
  {
    name: 'memory (no keysForUrl)',
    skip: undefined,
    everyPartition: true,
    options: async () => ({ backend: withoutUrlIndex(new MemoryStore()) }),
    tearDown: async () => {},
  },
  {
    name: 'memory (core contract only)',
    skip: undefined,
    everyPartition: false,
    options: async () => ({ backend: coreOnly(new MemoryStore()) }),
    tearDown: async () => {},
  },
  onDisk('sqlite'),
  onDisk('files'),
  redisStore,
]

for (const front of FRONTS)
  for (const store of PARTITION_STORES)
    for (const cacheControl of [true, 'shared'] as const)
      describe(`RFC 9111 §4.4 invalidation across credentials (cacheControl: ${cacheControl}) on the ${store.name} store [${front.name}]`, {
        skip: store.skip,
      }, () => {
        let r: Rig
        let n = 0
        const who: Record<string, Record<string, string>> = {
          'Bearer A': { authorization: 'Bearer A' },
          'Bearer B': { authorization: 'Bearer B' },
          anonymous: {},
        }
        before(async () => {
          r = await rig(front, { cacheControl, ...(await store.options()) })
          await capabilities(r.front.cache.store).ready?.ready()
        })
        after(async () => {
          await r.close()
          await store.tearDown()
        })

        /** A document whose GETs answer its current version (public: a shared cache stores it for Authorization too). */
        function documentAt(p: string, vary?: string): { version(): number } {
          let version = 1
          r.origin.route(p, (req, res) => {
            if (req.method !== 'GET') {
              version++
              res.statusCode = 204
              res.end()
              return
            }
            res.setHeader('cache-control', 'public, max-age=600')
            if (vary) res.setHeader('vary', vary)
            res.end(`document v${version}`)
          })
          return { version: () => version }
        }

        /** GETs `p` as each caller, twice: the second is a hit, so each has a stored response. */
        async function storeForEach(p: string, extra: Record<string, string> = {}): Promise<void> {
          for (const headers of Object.values(who)) {
            await get(r, p, { headers: { ...headers, ...extra } })
            assert.equal((await get(r, p, { headers: { ...headers, ...extra } })).response.hit, true)
          }
        }

        it(`an unsafe request by one credential invalidates the URL for ${store.everyPartition ? 'every credential' : 'itself'} and anonymous requests`, async () => {
          const p = `/partitions/${++n}`
          documentAt(p)
          await storeForEach(p)
          await get(r, p, { method: 'PUT', body: 'new', headers: { ...who['Bearer A'] } })
          for (const [name, headers] of Object.entries(who)) {
            const { response, text } = await get(r, p, { headers: { ...headers } })
            const invalidated = store.everyPartition || name !== 'Bearer B'
            assert.equal(text, invalidated ? 'document v2' : 'document v1', `${name} after the PUT`)
            assert.equal(response.hit, !invalidated)
          }
        })

        it('every Vary variant of every partition goes, and the same-origin Location’s responses too', async () => {
          const p = `/partitions/${++n}`
          documentAt(p, 'accept-language')
          documentAt(`${p}/target`)
          await storeForEach(p, { 'accept-language': 'fr' })
          await storeForEach(`${p}/target`)
          r.origin.route(`${p}/form`, (_req, res) => {
            res.statusCode = 201
            res.setHeader('location', `${p}/target`)
            res.end()
          })
          await get(r, `${p}/form`, { method: 'POST', body: 'x', headers: { ...who['Bearer B'] } })
          await get(r, p, { method: 'DELETE', headers: { ...who['Bearer B'] } })
          for (const [name, headers] of Object.entries(who)) {
            const invalidated = store.everyPartition || name !== 'Bearer A'
            const variant = await get(r, p, { headers: { ...headers, 'accept-language': 'fr' } })
            assert.equal(variant.response.hit, !invalidated, name)
            assert.equal((await get(r, `${p}/target`, { headers: { ...headers } })).response.hit, !invalidated, name)
          }
        })
      })

forEachFront('invalidation leaves POST answers stored by their body (allowableMethods)', (front) => {
  let r: Rig
  before(async () => {
    r = await rig(front, { allowableMethods: ['GET', 'POST'], cacheControl: false })
  })
  after(() => r.close())

  it('a POST query stored by its body is not removed by another POST to its URL (a new query is no change)', async () => {
    r.origin.route('/graphql', (_req, res, body) => void res.end(`result of ${body}`))
    const query = (body: string) => get(r, '/graphql', { method: 'POST', body, headers: { 'content-type': 'text/plain' } })
    await query('one')
    await query('two')
    const again = await query('one')
    assert.equal(again.text, 'result of one')
    assert.equal(again.response.hit, true)
    assert.equal(r.origin.count('/graphql'), 2)
  })
})
