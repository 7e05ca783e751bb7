import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { REDACTED } from '../../lib/request/key.js'
import { type CacheFront, forEachFront } from '../helpers/fronts.js'
import { route, startPerTestOn, storedEntries } from './fixtures.js'

/**
 * Every byte of the SQLite database as it is on disk (the main file, its WAL and shared memory), once
 * every write the cache accepted has landed there: before, a scan finds nothing because nothing is written.
 */
async function databaseBytes(front: CacheFront, dir: string): Promise<Buffer> {
  await front.settled()
  assert.ok((await front.cache.count()) > 0, 'the database holds the entries scanned')
  const parts: Buffer[] = []
  for (const suffix of ['', '-wal', '-shm']) {
    const file = join(dir, `cache.sqlite${suffix}`)
    if (existsSync(file)) parts.push(await readFile(file))
  }
  assert.ok(parts.length > 0, 'the database exists')
  return Buffer.concat(parts)
}

const TOKENS = {
  authorization: 'Bearer tok-4f9a2c7e1b-alice',
  'proxy-authorization': 'Basic cHJveHktc2VjcmV0LTdkM2E=',
  cookie: 'session=ck-9e8d7c6b5a-alice',
}

/** API keys as the usual headers and query parameters carry them, each one a needle to look for. */
const API_KEYS = {
  header: { 'x-api-key': 'xak-51c2e9d7a3', 'api-key': 'azk-6b0f3e1c88', 'x-auth-token': 'xat-2d7c9a4e10' },
  query: { api_key: 'qak-8f1e2d3c4b', access_token: 'qat-0a9b8c7d6e', apikey: 'qap-7e6d5c4b3a', key: 'qky-3c2b1a0f9e' },
}
const API_KEY_NEEDLES = [...Object.values(API_KEYS.header), ...Object.values(API_KEYS.query)]

/** Every write accepted so far committed to the file (the check of its bytes must see it). */
forEachFront('credentials', (kind) => {
  const start = startPerTestOn(kind)

  test('with the default settings, API-key headers and query parameters never reach the SQLite file in clear; stored URLs carry them hashed', async () => {
    // The default route echoes the path: this one answers without it.
    const { front, dir, origin, url } = await start({}, { '/search': route('results') })
    const query = new URLSearchParams({ ...API_KEYS.query, q: 'books' }).toString()
    const target = url(`/search?${query}`)
    await (await front.get(target, { headers: API_KEYS.header })).text()
    const again = await front.get(target, { headers: API_KEYS.header })
    await again.text()
    assert.equal(again.fromCache, true, 'the write landed: the same keys hit it')
    assert.equal(origin.count(), 1)
    const bytes = await databaseBytes(front, dir)
    for (const needle of API_KEY_NEEDLES) assert.equal(bytes.indexOf(needle), -1, `${needle} found in the database file`)
    const [entry] = await storedEntries(front)
    const stored = new URL(entry?.url ?? '')
    assert.equal(stored.searchParams.get('q'), 'books')
    for (const name of Object.keys(API_KEYS.query))
      assert.match(stored.searchParams.get(name) ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
    for (const name of Object.keys(API_KEYS.header)) assert.match(entry?.requestHeaders[name] ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
  })

  test('two different API keys never share an entry, in a header or in the query; the same key does', async () => {
    const { front, origin, url } = await start(
      {},
      {
        '/me': (req, res) =>
          void res.end(`for ${req.headers['x-api-key'] ?? new URL(req.url ?? '', 'http://x').searchParams.get('api_key')}`),
      },
    )
    const byHeader = (key: string) => front.get(url('/me'), { headers: { 'X-API-Key': key } })
    const byQuery = (key: string) => front.get(url(`/me?api_key=${key}`))
    for (const ask of [byHeader, byQuery]) {
      assert.equal(await (await ask('alice')).text(), 'for alice')
      const bob = await ask('bob')
      assert.equal(bob.fromCache, false)
      assert.equal(await bob.text(), 'for bob')
      const alice = await ask('alice')
      assert.equal(alice.fromCache, true)
      assert.equal(await alice.text(), 'for alice')
    }
    assert.equal(origin.count(), 4)
  })

  test('credentialParameters names more query parameters; ignoredParameters still opts one into sharing', async () => {
    const { front, origin, dir, url } = await start(
      { credentialParameters: ['Tenant_Secret'], ignoredParameters: ['api_key'] },
      { '/t': route('tenant'), '/shared': route('shared') },
    )
    await (await front.get(url('/t?tenant_secret=ts-19a8b7c6d5'))).text()
    assert.equal((await front.get(url('/t?tenant_secret=ts-19a8b7c6d5'))).fromCache, true)
    assert.equal((await front.get(url('/t?tenant_secret=ts-other'))).fromCache, false)
    await (await front.get(url('/shared?api_key=qak-alice-0001'))).text()
    const other = await front.get(url('/shared?api_key=qak-bob-0002'))
    assert.equal(other.fromCache, true, 'an ignored api_key is shared')
    assert.equal(origin.count(), 3)
    const bytes = await databaseBytes(front, dir)
    for (const needle of ['ts-19a8b7c6d5', 'qak-alice-0001']) assert.equal(bytes.indexOf(needle), -1, `${needle} found`)
    const urls = (await storedEntries(front)).map((entry) => entry.url)
    assert.ok(
      urls.some((u) => u.endsWith(`?api_key=${REDACTED}`)),
      urls.join(' '),
    )
    assert.ok(
      urls.some((u) => /\?tenant_secret=hmac-sha256%3A[0-9a-f]{64}$/.test(u)),
      urls.join(' '),
    )
  })

  test('Set-Cookie and Set-Cookie2 are replayed by the private cache but stored only sealed (AES-256-GCM), across a restart', async () => {
    const cookie = 'sid=sc-5e4d3c2b1a; Path=/; HttpOnly'
    const s = await start(
      { cacheControl: true },
      { '/login': route('ok', { 'cache-control': 'max-age=60', 'set-cookie': cookie, 'set-cookie2': 'legacy=sc2-0f1e2d3c' }) },
    )
    await (await s.front.get(s.url('/login'))).text()
    const hit = await s.front.get(s.url('/login'))
    await hit.text()
    assert.equal(hit.fromCache, true)
    assert.equal(hit.header('set-cookie'), cookie)
    assert.equal(hit.header('set-cookie2'), 'legacy=sc2-0f1e2d3c')
    const bytes = await databaseBytes(s.front, s.dir)
    for (const needle of ['sc-5e4d3c2b1a', 'sc2-0f1e2d3c']) assert.equal(bytes.indexOf(needle), -1, `${needle} found`)
    const [entry] = await storedEntries(s.front)
    for (const name of ['set-cookie', 'set-cookie2']) {
      assert.match(entry?.headers.find(([n]) => n === name)?.[1] ?? '', /^aes-256-gcm:[A-Za-z0-9+/=]+$/)
    }
    await s.front.cache.close()
    const restarted = s.reopen()
    const later = await restarted.get(s.url('/login'))
    assert.equal(later.fromCache, true, 'the secret kept in the file opens it again')
    assert.equal(later.header('set-cookie'), cookie)
    assert.equal(s.origin.count('/login'), 1)
  })

  test('Authorization, Proxy-Authorization and Cookie never reach the SQLite file in clear (WAL included)', async () => {
    const { front, dir, url } = await start({}, { '/vary': route('v', { vary: 'Authorization, Cookie' }) })
    await (await front.get(url('/me'), { headers: TOKENS })).text()
    await (await front.get(url('/vary'), { headers: TOKENS })).text()
    assert.equal((await front.get(url('/me'), { headers: TOKENS })).fromCache, true)
    assert.equal(await front.cache.count(), 2)
    const bytes = await databaseBytes(front, dir)
    for (const [name, token] of Object.entries(TOKENS)) {
      for (const needle of [token, token.split(' ').pop() as string, token.split('=')[1] ?? ''].filter((n) => n.length > 6)) {
        assert.equal(bytes.indexOf(needle), -1, `${name} (${needle}) found in the database file`)
      }
    }
    for (const entry of await storedEntries(front)) {
      for (const name of Object.keys(TOKENS)) assert.match(entry.requestHeaders[name] ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
    }
  })

  test('credentialHeaders: an X-API-Key partitions the cache and never reaches the SQLite file in clear', async () => {
    const { front, origin, dir, url } = await start(
      { credentialHeaders: ['X-API-Key'] },
      // The body names the user, never the key (the key must appear nowhere in the file).
      { '/key': (req, res) => void res.end(`for ${String(req.headers['x-api-key']).split('-').pop()}`) },
    )
    const as = (key: string) => front.get(url('/key'), { headers: { 'x-api-key': key } })
    assert.equal(await (await as('key-3b9f1d7c-alice')).text(), 'for alice')
    const bob = await as('key-8e2a6c4f-bob')
    assert.equal(bob.fromCache, false)
    assert.equal(await bob.text(), 'for bob')
    const alice = await as('key-3b9f1d7c-alice')
    assert.equal(alice.fromCache, true)
    assert.equal(await alice.text(), 'for alice')
    assert.equal(origin.count('/key'), 2)
    const bytes = await databaseBytes(front, dir)
    for (const needle of ['key-3b9f1d7c-alice', 'key-8e2a6c4f-bob']) assert.equal(bytes.indexOf(needle), -1, `${needle} found`)
    for (const entry of await storedEntries(front))
      assert.match(entry.requestHeaders['x-api-key'] ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
  })

  test("a second token does not hit the first token's entry; the same token does", async () => {
    const { front, origin, url } = await start({}, { '/me': (req, res) => void res.end(`for ${req.headers.authorization}`) })
    const as = (token: string) => front.get(url('/me'), { headers: { authorization: `Bearer ${token}` } })
    assert.equal(await (await as('alice')).text(), 'for Bearer alice')
    const bob = await as('bob')
    assert.equal(await bob.text(), 'for Bearer bob')
    assert.equal(bob.fromCache, false)
    const anonymous = await front.get(url('/me'))
    assert.equal(await anonymous.text(), 'for undefined')
    const alice = await as('alice')
    assert.equal(alice.fromCache, true)
    assert.equal(await alice.text(), 'for Bearer alice')
    assert.equal(origin.count('/me'), 3)
  })

  test('the partition survives a restart: the credential hash is keyed by a secret kept with the data', async () => {
    const s = await start()
    await (await s.front.get(s.url('/me'), { headers: { cookie: 'sid=1' } })).text()
    await s.front.cache.close()
    const restarted = s.reopen()
    assert.equal((await restarted.get(s.url('/me'), { headers: { cookie: 'sid=1' } })).fromCache, true)
    const other = await restarted.get(s.url('/me'), { headers: { cookie: 'sid=2' } })
    await other.text()
    assert.equal(other.fromCache, false)
  })

  test('naming a credential in ignoredParameters shares the entry and stores it as REDACTED', async () => {
    const { front, dir, origin, url } = await start({ ignoredParameters: ['authorization'] })
    await (await front.get(url('/shared'), { headers: { authorization: TOKENS.authorization } })).text()
    assert.equal((await front.get(url('/shared'), { headers: { authorization: 'Bearer someone-else' } })).fromCache, true)
    assert.equal(origin.count(), 1)
    const [entry] = await storedEntries(front)
    assert.equal(entry?.requestHeaders.authorization, REDACTED)
    assert.equal((await databaseBytes(front, dir)).indexOf('tok-4f9a2c7e1b-alice'), -1)
  })

  test('Set-Cookie from the origin is never stored', async () => {
    const { front, dir, url } = await start({}, { '/login': route('ok', { 'set-cookie': 'sid=sc-1234567890abcdef' }) })
    const first = await front.get(url('/login'))
    await first.text()
    const cached = await front.get(url('/login'))
    assert.equal(cached.fromCache, true)
    assert.equal(cached.headers.get('set-cookie'), null)
    assert.equal((await databaseBytes(front, dir)).indexOf('sc-1234567890abcdef'), -1)
  })
})
