import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { createClient } from 'redis'
import { pack } from '../../lib/entry/codec.js'
import { StoreUnavailableError } from '../../lib/errors.js'
import { RedisStore, type RedisStoreOptions } from '../../lib/stores/redis.js'
import { ROOT } from '../helpers/children.js'
import { makeEntry, T0 } from '../helpers/entries.js'
import { type RawClient, type RedisServer, rawClient, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { collect, storedCount } from '../helpers/store-reads.js'
import { assertSameEntry, storeContract } from './contract.js'

/**
 * RedisStore on a real redis-server started for this file (spec/helpers/redis-server.ts): the store
 * contract, then what is particular to Redis. Timeouts are generous here (a loaded machine must not
 * turn a lookup into a miss); spec/stores/redis-outage.test.ts is where the server misbehaves.
 */

const SLOW_MACHINE = { commandTimeout: 10_000, connectTimeout: 30_000 }

describe('RedisStore on a real redis-server', { skip: redisMissing }, () => {
  let server: RedisServer
  let raw: RawClient
  const opened: RedisStore[] = []

  /** A store on the test server under a fresh prefix, once it holds the shared secret. */
  const open = async (options: RedisStoreOptions = {}): Promise<RedisStore> => {
    const store = new RedisStore({ url: server.url, prefix: uniquePrefix(), ...SLOW_MACHINE, ...options })
    opened.push(store)
    await store.ready()
    return store
  }

  before(async () => {
    server = await startRedis()
    raw = await rawClient(server.url)
  })
  after(async () => {
    raw.destroy()
    await server.stop()
  })
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
  })

  storeContract('RedisStore', async () => {
    // The contract's entries are dated 2025: the store's clock says so too, so they are not past grace.
    const store = await open({ now: () => T0 + 1000 })
    return { store, cleanup: () => store.close() }
  })

  describe('keys and values', () => {
    it('keeps each entry under {prefix}{key} as the packed entry, raw bytes', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix })
      const entry = makeEntry({ key: 'k1', body: new Uint8Array([0, 255, 13, 10, 0]), expires: Date.now() + 60_000 })
      await store.set('k1', entry)
      const stored = await raw.get(`${prefix}k1`)
      assert.ok(Buffer.isBuffer(stored))
      assert.ok(stored.equals(Buffer.from(pack(entry))), 'the value is pack(entry), byte for byte')
      assert.equal(await raw.type(`${prefix}k1`), 'string')
    })

    it('expires an entry on the server at its expiry plus the grace period (PTTL)', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix, grace: '10m' })
      const before = Date.now()
      await store.set('soon', makeEntry({ key: 'soon', expires: before + 60_000 }))
      const pttl = await raw.pTTL(`${prefix}soon`)
      const after = Date.now()
      assert.ok(pttl <= 60_000 + 600_000 && pttl >= 60_000 + 600_000 - (after - before) - 1000, `PTTL ${pttl}`)
    })

    it('gives an entry without expiry no TTL', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix })
      await store.set('forever', makeEntry({ key: 'forever', expires: null }))
      assert.equal(await raw.pTTL(`${prefix}forever`), -1)
    })

    it('keeps an expired entry for the grace period, and does not store one already past it (dropping the older one)', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix, grace: 3600 })
      const now = Date.now()
      await store.set('stale', makeEntry({ key: 'stale', expires: now - 60_000 }))
      assert.ok(await store.get('stale'), 'an hour of grace keeps an entry a minute past expiry')
      await store.set('stale', makeEntry({ key: 'stale', expires: now - 2 * 3600_000 }))
      assert.equal(await raw.exists(`${prefix}stale`), 0)
    })

    it("adds each key to its URL's index set, which lives as long as its longest-lived entry and goes with clear()", async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix, grace: 0 })
      const url = 'https://example.com/indexed'
      const index = `${prefix}url-index:${createHash('sha256').update(url).digest('hex')}`
      const now = Date.now()
      await store.set('short', makeEntry({ key: 'short', url, expires: now + 60_000 }))
      await store.set('long', makeEntry({ key: 'long', url, expires: now + 600_000 }))
      await store.set('shorter', makeEntry({ key: 'shorter', url, expires: now + 1_000 }))
      assert.deepEqual((await raw.sMembers(index)).map(String).toSorted(), [
        `${prefix}long`,
        `${prefix}short`,
        `${prefix}shorter`,
      ])
      const pttl = await raw.pTTL(index)
      assert.ok(
        pttl > 590_000 && pttl <= 600_000,
        `the index outlives its longest entry's 600 s, not the last one's 1 s: PTTL ${pttl}`,
      )
      await store.set('forever', makeEntry({ key: 'forever', url, expires: null }))
      assert.equal(await raw.pTTL(index), -1, 'an entry without expiry keeps its index without one')
      assert.equal(await storedCount(store), 4, 'the index is not listed as an entry')
      await store.clear()
      assert.equal(await raw.exists(index), 0)
    })

    it('never reads or writes a key naming the secret or an index (a keyFn may return any string)', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix })
      const url = 'https://example.com/reserved'
      const expires = Date.now() + 60_000
      await store.set('kept', makeEntry({ key: 'kept', url, expires }))
      const indexName = `url-index:${createHash('sha256').update(url).digest('hex')}`
      await store.set(indexName, makeEntry({ key: indexName, url, expires }))
      await store.set('secret', makeEntry({ key: 'secret', url, expires }))
      assert.equal(await raw.type(`${prefix}${indexName}`), 'set', 'the index is still a set')
      assert.equal(await store.get(indexName), undefined)
      assert.equal((await raw.get(`${prefix}secret`))?.toString(), store.secret)
      assert.deepEqual(await store.keysForUrl(url), ['kept'])
    })

    it('writes a Vary marker and its variant together, in one script call', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix })
      const marker = makeEntry({ key: 'base', kind: 'vary', vary: ['accept'], body: new Uint8Array(0), expires: null })
      const variant = makeEntry({ key: 'variant', vary: ['accept'], expires: Date.now() + 60_000 })
      const monitor = await rawClient(server.url)
      const seen: string[] = []
      try {
        await monitor.monitor((line) => void seen.push(String(line)))
        await store.setAll([
          { key: 'base', entry: marker },
          { key: 'variant', entry: variant },
        ])
        const deadline = Date.now() + 10_000
        while (seen.filter((line) => line.includes('"SET"')).length < 2 && Date.now() < deadline) await sleep(10)
      } finally {
        monitor.destroy()
      }
      const ours = seen.filter((line) => line.includes(prefix))
      assert.equal(ours.filter((line) => line.includes('"EVAL"')).length, 1, ours.join('\n'))
      const sets = ours.filter((line) => line.includes('"SET"'))
      assert.equal(sets.length, 2)
      for (const line of sets) assert.match(line, /\[\d+ lua\]/, 'each SET runs inside the script')
      assertSameEntry(await store.get('base'), marker)
      assertSameEntry(await store.get('variant'), variant)
      assert.equal(await raw.pTTL(`${prefix}base`), -1)
      assert.ok((await raw.pTTL(`${prefix}variant`)) > 60_000)
    })
  })

  describe('the shared secret', () => {
    it('is written once under {prefix}secret and read by every store on the prefix', async () => {
      const prefix = uniquePrefix()
      const first = await open({ prefix })
      const second = await open({ prefix })
      assert.match(first.secret, /^[0-9a-f]{64}$/)
      assert.equal(second.secret, first.secret)
      assert.equal((await raw.get(`${prefix}secret`))?.toString(), first.secret)
      const other = await open()
      assert.notEqual(other.secret, first.secret)
    })

    it('is neither an entry nor listed or cleared', async () => {
      const prefix = uniquePrefix()
      const store = await open({ prefix })
      assert.equal(await store.get('secret'), undefined)
      await store.set('secret', makeEntry({ key: 'secret' }))
      assert.equal((await raw.get(`${prefix}secret`))?.toString(), store.secret)
      assert.deepEqual(await collect(store.records()), [])
      await store.clear()
      assert.equal((await raw.get(`${prefix}secret`))?.toString(), store.secret)
    })
  })

  describe('inspection', () => {
    it('clear() on a prefix leaves other prefixes, other keys and the secret alone', async () => {
      const prefix = uniquePrefix('mine')
      const mine = await open({ prefix })
      const theirs = await open({ prefix: uniquePrefix('theirs') })
      for (let i = 0; i < 450; i++) await mine.set(`k${i}`, makeEntry({ key: `k${i}`, expires: null }))
      await theirs.set('k0', makeEntry({ key: 'k0', expires: null }))
      await raw.set('unrelated', 'app data')
      await raw.set(`${prefix.slice(0, -1)}`, 'the prefix without its colon')
      await mine.clear()
      assert.equal(await storedCount(mine), 0)
      assert.equal(await storedCount(theirs), 1)
      assert.equal((await raw.get('unrelated'))?.toString(), 'app data')
      assert.equal((await raw.get(prefix.slice(0, -1)))?.toString(), 'the prefix without its colon')
      assert.equal((await raw.get(`${prefix}secret`))?.toString(), mine.secret)
    })

    it('leaves alone another cache whose prefix extends its own (app:v2: under app:): its entries, index and secret', async () => {
      const prefix = uniquePrefix('app')
      const outer = await open({ prefix })
      const inner = await open({ prefix: `${prefix}v2:` })
      const url = 'https://example.com/v2'
      const expires = Date.now() + 60_000
      await outer.set('mysecret', makeEntry({ key: 'mysecret', url, expires })) // a keyFn key ending in "secret" is an entry
      await inner.set('k', makeEntry({ key: 'k', url, expires }))
      const listed = await collect(outer.records())
      assert.deepEqual(
        listed.map(({ key, entry }) => [key, entry !== undefined]),
        [['mysecret', true]],
        'its own entry only; the other secret is not listed as invalid',
      )
      assert.equal(await outer.size(), await raw.strLen(`${prefix}mysecret`))
      await outer.clear()
      assert.equal(await storedCount(outer), 0)
      assert.equal(await storedCount(inner), 1)
      assert.deepEqual(await inner.keysForUrl(url), ['k'])
      assert.equal((await raw.get(`${prefix}v2:secret`))?.toString(), inner.secret)
    })

    it('matches a prefix with glob characters literally', async () => {
      const tag = uniquePrefix('glob').slice(0, -1)
      const store = await open({ prefix: `${tag}*[a]?:` })
      await store.set('k', makeEntry({ key: 'k', expires: null }))
      await raw.set(`${tag}XaY:other`, 'not ours, though the unescaped glob would match it')
      assert.equal(await storedCount(store), 1)
      await store.clear()
      assert.equal(await raw.exists(`${tag}XaY:other`), 1)
    })

    it('sums the packed sizes of its entries', async () => {
      const store = await open()
      const entries = [
        makeEntry({ key: 'a', url: 'https://b.example/', expires: null }),
        makeEntry({ key: 'b', url: 'https://a.example/', expires: null }),
        makeEntry({ key: 'c', url: 'https://a.example/', body: new Uint8Array(1000), expires: null }),
      ]
      for (const entry of entries) await store.set(entry.key, entry)
      assert.equal(
        await store.size(),
        entries.reduce((sum, entry) => sum + pack(entry).byteLength, 0),
      )
    })

    it('uses SCAN and UNLINK, never KEYS, FLUSHDB or FLUSHALL', async () => {
      const store = await open()
      for (let i = 0; i < 30; i++) await store.set(`k${i}`, makeEntry({ key: `k${i}`, expires: null }))
      await raw.configResetStat()
      await store.size()
      await collect(store.records())
      await store.delete(['k1', 'k2'])
      await store.clear()
      const stats = await commandStats(raw)
      assert.ok(stats.has('scan') && stats.has('unlink'), [...stats.keys()].join(' '))
      for (const forbidden of ['keys', 'flushdb', 'flushall']) assert.equal(stats.has(forbidden), false, forbidden)
    })
  })

  describe('clients', () => {
    it('never closes a client passed in, nor connects one twice', async () => {
      const client = createClient({ url: server.url })
      await client.connect()
      try {
        const store = await open({ client })
        await store.set('k', makeEntry({ key: 'k', expires: null }))
        assert.ok(await store.get('k'))
        await store.close()
        assert.equal(client.isOpen, true)
        assert.equal(await client.ping(), 'PONG')
      } finally {
        client.destroy()
      }
    })

    it('connects a client passed in that is not connected yet', async () => {
      const client = createClient({ url: server.url })
      try {
        const store = await open({ client })
        await store.set('k', makeEntry({ key: 'k', expires: null }))
        assert.ok(await store.get('k'))
      } finally {
        client.destroy()
      }
    })

    it('keeps a process alive while it waits on Redis, and not once idle: a script that never closes it ends', () => {
      const worker = join(ROOT, 'spec', 'stores', 'workers', 'redis-exit.ts')
      const run = spawnSync(process.execPath, ['--import', 'tsx', worker, server.url, uniquePrefix('exit')], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      })
      assert.equal(run.signal, null, 'it ended by itself')
      assert.equal(run.status, 0, run.stderr)
      assert.deepEqual(JSON.parse(run.stdout), { stored: true })
    })

    it('closes the client it made from the url', async () => {
      // Database 7 is this test's alone: the connections on it are the store's.
      const onDb7 = async () => (await clientList(raw)).split('\n').filter((line) => line.includes(' db=7 ')).length
      const store = await open({ url: `${server.url}/7` })
      assert.equal(await onDb7(), 1)
      await store.close()
      const deadline = Date.now() + 10_000
      while ((await onDb7()) > 0 && Date.now() < deadline) await sleep(20)
      assert.equal(await onDb7(), 0)
    })
  })

  it('without a server: ready() resolves at the first failed attempt, lookups, writes and deletes reject at once naming the server, one report', async () => {
    const reports: Error[] = []
    const closedPort = `redis://127.0.0.1:${server.port + 1}` // nothing listens there in this test run
    const store = new RedisStore({
      url: closedPort,
      commandTimeout: 200,
      connectTimeout: 30_000,
      onError: (e) => reports.push(e),
    })
    opened.push(store)
    const started = Date.now()
    await store.ready()
    assert.ok(Date.now() - started < 20_000, 'did not wait for connectTimeout')
    const refused = { name: 'StoreUnavailableError', message: new RegExp(`${closedPort}.*ECONNREFUSED`) }
    await assert.rejects(store.get('k'), refused)
    await assert.rejects(store.set('k', makeEntry({ key: 'k' })), refused)
    await assert.rejects(store.delete(['k']), refused)
    await assert.rejects(store.size(), StoreUnavailableError)
    await sleep(300) // reconnection attempts meanwhile fail the same way: still one report
    assert.equal(reports.length, 1, reports.map((e) => e.message).join('\n'))
    assert.ok(reports[0] instanceof StoreUnavailableError)
    assert.equal((reports[0] as StoreUnavailableError).code, 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE')
  })
})

/** `INFO commandstats` as command → calls, since the last `CONFIG RESETSTAT`. */
async function commandStats(raw: RawClient): Promise<Map<string, number>> {
  const info = (await raw.info('commandstats')).toString()
  const stats = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1] as string, Number(match[2]))
  return stats
}

async function clientList(raw: RawClient): Promise<string> {
  return String(await raw.sendCommand(['CLIENT', 'LIST']))
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
