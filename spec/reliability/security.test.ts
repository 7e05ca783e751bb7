import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { type CacheOptions, cacheInfo, createCachedFetch, SqliteStore } from '../../lib/index.js'
import { fetchFront, readAll, undiciFront } from '../helpers/fronts.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/** Security (issue 8): nothing secret in the file, nothing served across credentials. */

let origin: Origin
let dir: string
let cleanup: () => Promise<void>
let files = 0
const newPath = () => join(dir, `cache-${++files}.sqlite`)

before(async () => {
  origin = await startOrigin({
    // Answers per caller, without echoing any credential, and sets a cookie of its own.
    '*': (req, res, body) => {
      const who = req.headers.authorization
        ? 'auth'
        : req.headers.cookie
          ? 'cookie'
          : req.headers['proxy-authorization']
            ? 'proxy'
            : 'anonymous'
      const id = createId(String(req.headers.authorization ?? req.headers.cookie ?? req.headers['proxy-authorization'] ?? ''))
      res.setHeader('content-type', 'text/plain')
      if (!req.url?.startsWith('/shared')) res.setHeader('vary', 'Authorization, Cookie, Proxy-Authorization, X-Api-Token')
      res.setHeader('etag', '"v1"')
      res.setHeader('set-cookie', `sid=${SET_COOKIE_SECRET}; HttpOnly`)
      res.end(`${req.method} ${req.url?.split('?')[0]} for ${who}:${id} (${body.length} body bytes)`)
    },
  })
  ;({ dir, cleanup } = await tempDir('fetch-http-cache-security-'))
})
after(async () => {
  await origin.close()
  await cleanup()
})

/** Unique, greppable secrets: one per place a credential can hide. */
const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`
const SET_COOKIE_SECRET = secret('setcookie')

/** A short stable id of a credential, so responses differ per credential without containing it. */
function createId(credential: string): string {
  let h = 0
  for (const c of credential) h = (Math.imul(h, 31) + (c.codePointAt(0) ?? 0)) >>> 0
  return h.toString(36)
}

/** Every byte SQLite keeps for a cache: the database, its WAL and its shared-memory index. */
async function fileBytes(path: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for (const suffix of ['', '-wal', '-shm']) parts.push(await readFile(path + suffix).catch(() => Buffer.alloc(0)))
  return Buffer.concat(parts)
}

describe('no credential reaches the cache file', () => {
  it('Authorization, Proxy-Authorization, Cookie, and ignored query, JSON, form and header parameters: absent from .sqlite, -wal and -shm', async () => {
    const path = newPath()
    const secrets = {
      authorization: secret('bearer'),
      proxy: secret('proxy'),
      cookie: secret('cookie'),
      query: secret('query'),
      json: secret('json'),
      form: secret('form'),
      header: secret('header'),
    }
    const options: CacheOptions = {
      cacheName: path,
      allowableMethods: ['GET', 'POST'],
      ignoredParameters: ['api_key', 'password', 'x-api-token'],
      matchHeaders: true,
    }
    const cachedFetch = createCachedFetch(options)
    // The same store for the dispatcher front (a Store instance and a cacheName together are refused).
    const { cacheName: _, ...shared } = options
    const undici = undiciFront({ ...shared, backend: cachedFetch.cache.store })
    const requests: [string, RequestInit][] = [
      [`/q?api_key=${secrets.query}&page=1`, {}],
      ['/auth', { headers: { authorization: `Bearer ${secrets.authorization}` } }],
      ['/proxy', { headers: { 'proxy-authorization': `Basic ${secrets.proxy}` } }],
      ['/cookie', { headers: { cookie: `session=${secrets.cookie}; theme=dark` } }],
      ['/header', { headers: { 'x-api-token': secrets.header } }],
      [
        '/json',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password: secrets.json, q: 1 }),
        },
      ],
      [
        '/form',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `password=${secrets.form}&q=1`,
        },
      ],
    ]
    try {
      for (const [path, init] of requests) {
        for (let i = 0; i < 2; i++) {
          const response = await cachedFetch(origin.url + path, init)
          await response.text()
          if (i === 1) assert.equal(cacheInfo(response)?.fromCache, true, `${path} is cached (so it was written)`)
        }
        if (init.method === undefined) {
          const viaUndici = await undici.get(origin.url + path, { headers: (init.headers ?? {}) as Record<string, string> })
          await readAll(viaUndici.body)
        }
      }
      // While open (recent writes in the WAL), and after closing (checkpointed into the file).
      for (const when of ['open', 'closed']) {
        if (when === 'closed') {
          await undici.close()
          await cachedFetch.cache.close()
        }
        const bytes = await fileBytes(path)
        assert.ok(bytes.includes(`${origin.url}/auth`), 'the scan sees stored URLs (sanity check)')
        for (const [where, value] of Object.entries({ ...secrets, 'set-cookie': SET_COOKIE_SECRET })) {
          assert.equal(bytes.includes(value), false, `the ${where} secret is in the cache file (${when})`)
        }
      }
    } finally {
      await undici.close().catch(() => {}) // already closed when the test got that far
      await cachedFetch.cache.close()
    }
  })
})

describe('a response cached for one credential is never served to another', () => {
  const cases: [string, (value: string) => Record<string, string>][] = [
    ['Authorization', (v) => ({ authorization: `Bearer ${v}` })],
    ['Cookie', (v) => ({ cookie: `session=${v}` })],
    ['Proxy-Authorization', (v) => ({ 'proxy-authorization': `Basic ${v}` })],
  ]
  for (const [makeName, makeFront] of [
    ['cached fetch', fetchFront],
    ['undici.request + cacheInterceptor', undiciFront],
  ] as const) {
    for (const [header, credential] of cases) {
      it(`${header}, through ${makeName}: each user gets their own response, and the anonymous one stays anonymous`, async () => {
        const front = makeFront({ backend: 'memory' })
        try {
          const path = `/me-${header}-${makeName.length}`
          const read = async (headers: Record<string, string>) => {
            const response = await front.get(origin.url + path, { headers })
            return { text: await readAll(response.body), hit: response.hit, cookie: response.header('set-cookie') }
          }
          const alice = credential('alice')
          const bob = credential('bob')
          const first = await read(alice)
          assert.equal(first.hit, false)
          const second = await read(bob)
          assert.equal(second.hit, false, "bob is not served alice's response")
          assert.notEqual(second.text, first.text)
          const anonymous = await read({})
          assert.equal(anonymous.hit, false)
          assert.match(anonymous.text, /for anonymous/)
          const again = await read(alice)
          assert.equal(again.hit, true)
          assert.equal(again.text, first.text)
          assert.equal(again.cookie, undefined, 'a cached response never replays Set-Cookie')
          assert.equal((await read(credential('carol'))).hit, false)
          assert.equal(origin.count(path), 4)
        } finally {
          await front.close()
        }
      })
    }
  }

  it('ignoredParameters naming a credential header opts into sharing, as documented', async () => {
    const front = fetchFront({ backend: 'memory', ignoredParameters: ['authorization'] })
    try {
      const path = '/shared'
      await readAll((await front.get(origin.url + path, { headers: { authorization: 'Bearer alice' } })).body)
      const bob = await front.get(origin.url + path, { headers: { authorization: 'Bearer bob' } })
      assert.equal(bob.hit, true)
      assert.equal(origin.count(path), 1)
    } finally {
      await front.close()
    }
  })
})

describe('Set-Cookie', () => {
  for (const [name, makeFront] of [
    ['cached fetch', fetchFront],
    ['undici.request + cacheInterceptor', undiciFront],
  ] as const) {
    it(`through ${name}: passed to the caller that fetched it, never stored, never replayed from the cache`, async () => {
      const path = newPath()
      const store = new SqliteStore({ path })
      const front = makeFront({ backend: store })
      try {
        const url = `${origin.url}/cookie-${name.length}`
        const miss = await front.get(url)
        assert.equal(miss.hit, false)
        assert.equal(miss.header('set-cookie')?.includes(SET_COOKIE_SECRET), true, 'the fetching caller gets its cookie')
        await readAll(miss.body)
        const hit = await front.get(url)
        assert.equal(hit.hit, true)
        assert.equal(hit.header('set-cookie'), undefined)
        await readAll(hit.body)
        for await (const record of store.records()) {
          assert.equal(
            record.entry?.headers.some(([n]) => n === 'set-cookie'),
            false,
          )
        }
        assert.equal((await fileBytes(path)).includes(SET_COOKIE_SECRET), false)
      } finally {
        await front.close()
        store.close()
      }
    })
  }
})

describe('keys', () => {
  it('are SHA-256 hex, reveal nothing of the URL, and differ per credential', async () => {
    const store = new SqliteStore({ path: newPath() })
    const cachedFetch = createCachedFetch({ backend: store })
    try {
      const infos = []
      for (const auth of ['Bearer a', 'Bearer b']) {
        const response = await cachedFetch(`${origin.url}/keyed?x=1`, { headers: { authorization: auth } })
        await response.text()
        infos.push(cacheInfo(response))
      }
      const keys: string[] = []
      for await (const r of store.records()) keys.push(r.key)
      assert.ok(keys.length >= 2)
      for (const key of keys) assert.match(key, /^[0-9a-f]{64}$/)
      const [a, b] = infos.map((i) => i?.cacheKey)
      assert.match(a ?? '', /^[0-9a-f]{64}$/)
      assert.notEqual(a, b)
    } finally {
      store.close()
    }
  })
})

describe('SQL', () => {
  it('every statement in the SQLite store is a literal: no interpolated values', async () => {
    const files = ['sqlite.ts', 'sqlite-file.ts', 'sqlite-schema.ts']
    const sources = await Promise.all(
      files.map((file) => readFile(join(import.meta.dirname, '..', '..', 'lib', 'stores', file), 'utf8')),
    )
    const source = sources.join('\n')
    // Every prepare()/exec() call takes a string literal (no variables, no concatenation).
    const calls = [...source.matchAll(/\.(prepare|exec)(?:<[^>]*>)?\(\s*([^)\s][^,)]*)/g)]
    assert.ok(calls.length >= 10, `found ${calls.length} statements`)
    for (const [call, , argument = ''] of calls) {
      assert.match(argument, /^(['"`]|SCHEMA\b)/, `${call}: not a literal`)
      assert.doesNotMatch(argument, /\$\{/, `${call}: interpolated`)
    }
    // Template literals holding SQL carry no interpolation, except pragmas of validated integers.
    for (const [literal] of source.matchAll(/`[^`]*`/g)) {
      if (!/\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP)\b/.test(literal)) continue
      assert.doesNotMatch(literal, /\$\{/, `interpolated SQL: ${literal.slice(0, 80)}`)
    }
    const pragmas = [...source.matchAll(/pragma\(`([^`]*)`/g)].map((m) => m[1])
    for (const pragma of pragmas)
      assert.match(
        pragma ?? '',
        /^(busy_timeout = \$\{(this\.#)?busyTimeout\}|user_version = \$\{SCHEMA_VERSION\}|application_id = \$\{APPLICATION_ID\})$/,
      )
  })

  it("a URL and headers full of quotes and '; DROP TABLE' are stored and served as data", async () => {
    const path = newPath()
    const cachedFetch = createCachedFetch({ cacheName: path, matchHeaders: ['x-evil'] })
    const evil = `/'; DROP TABLE entries; --/"quoted"?q=' OR '1'='1&x="); DELETE FROM meta; --`
    try {
      for (let i = 0; i < 2; i++) {
        const response = await cachedFetch(origin.url + evil, { headers: { 'x-evil': `'); DROP TABLE meta; --` } })
        assert.equal(response.status, 200)
        await response.text()
        assert.equal(cacheInfo(response)?.fromCache, i === 1)
      }
    } finally {
      await cachedFetch.cache.close()
    }
    const db = new Database(path, { readonly: true })
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()
      assert.deepEqual(tables, ['bodies', 'entries', 'meta'])
      // The response's Vary makes two rows: the marker and the variant, both for this URL.
      const urls = db.prepare('SELECT DISTINCT url FROM entries').pluck().all() as string[]
      assert.deepEqual(urls, [new URL(origin.url + evil).href])
    } finally {
      db.close()
    }
  })
})

describe('file modes', { skip: process.platform === 'win32' && 'POSIX file modes' }, () => {
  let umask: number
  beforeEach(() => {
    umask = process.umask(0) // the most permissive umask: the modes must not depend on it
  })
  afterEach(() => {
    process.umask(umask)
  })

  it('the cache file, its -wal and -shm are created 0600, and a missing directory 0700', async () => {
    const path = join(dir, 'made', 'here', 'cache.sqlite')
    const cachedFetch = createCachedFetch({ cacheName: path })
    try {
      await (await cachedFetch(`${origin.url}/mode`)).text()
      for (const suffix of ['', '-wal', '-shm']) {
        assert.equal((await stat(path + suffix)).mode & 0o777, 0o600, `${suffix || 'database'} mode`)
      }
      assert.equal((await stat(join(dir, 'made', 'here'))).mode & 0o777, 0o700)
    } finally {
      await cachedFetch.cache.close()
    }
  })
})
