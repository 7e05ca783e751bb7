import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import type { Origin } from '../helpers/origin.js'

import { CLI, cli, cliState, ROOT, run, shellQuote, TSX } from './fixture.js'

describe('fetch-http-cache (the CLI): inspecting and deleting', () => {
  let origin: Origin
  let dir: string
  let db: string
  const { fill, storedUrls } = cliState(
    (state) => {
      ;({ origin, dir, db } = state)
    },
    () => db,
  )

  describe('stats', () => {
    it('counts fresh, expired and unreadable responses, URLs and bytes', async () => {
      await fill()
      const corrupt = new Database(db)
      corrupt.prepare("UPDATE entries SET meta = 'garbage' WHERE url LIKE '%/b'").run()
      corrupt.close()
      const store = new SqliteStore({ path: db })
      const size = await store.size()
      store.close()

      const onDisk = statSync(db).size

      const json = await cli(['stats', '--db', db, '--json'], dir)
      assert.equal(json.code, 0, json.stderr)
      const stats = JSON.parse(json.stdout)
      assert.equal(stats.file, db)
      assert.equal(stats.responses, 2)
      assert.equal(stats.fresh, 1)
      assert.equal(stats.expired, 1)
      assert.equal(stats.invalid, 1)
      assert.equal(stats.urls, 2)
      assert.equal(stats.size, size)
      assert.equal(stats.bodyBytes, Buffer.byteLength('hello /a?y=1&x=2') + Buffer.byteLength('hello /old'))
      assert.deepEqual(stats.disk, { total: onDisk, db: onDisk, wal: 0, shm: 0 })
      assert.ok(Date.parse(stats.oldest) <= Date.parse(stats.newest))

      const human = await cli(['stats', '--db', db], dir)
      assert.equal(human.code, 0)
      assert.match(human.stdout, /^File +.*http_cache\.sqlite$/m)
      assert.match(human.stdout, /^Responses +2 \(1 fresh, 1 expired\)$/m)
      assert.ok(
        human.stdout.includes(`Unreadable   1 (remove with: fetch-http-cache delete --invalid --db ${db})\n`),
        human.stdout,
      )
      assert.match(human.stdout, /^URLs +2$/m)
      assert.match(
        human.stdout,
        new RegExp(
          `^Stored size +\\S+ \\S+ \\(${size} bytes\\): the entries' bodies and metadata, which maxSize limits \\(bodies: 26 B\\)$`,
          'm',
        ),
      )
      assert.match(
        human.stdout,
        new RegExp(`^On disk +\\S+ \\S+ \\(${onDisk} bytes\\): database \\S+ \\S+, -wal 0 B, -shm 0 B$`, 'm'),
      )
      assert.match(human.stdout, /^Oldest +\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s ago\)$/m)
      assert.match(human.stdout, /^Newest +\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s ago\)$/m)
      assert.equal(human.stderr, '')
    })

    it('counts the -wal and -shm files in the size on disk, as they were before it opened the file', async () => {
      await fill(['/a'], [])
      // Another process's open connection with an unfolded write keeps -wal and -shm on disk.
      const other = new Database(db)
      try {
        other.pragma('wal_autocheckpoint = 0')
        other.prepare("UPDATE entries SET accessed_at = accessed_at + 1 WHERE url LIKE '%/a'").run()
        const sizes = { db: statSync(db).size, wal: statSync(`${db}-wal`).size, shm: statSync(`${db}-shm`).size }
        assert.ok(sizes.wal > 0 && sizes.shm > 0)
        const result = await cli(['stats', '--db', db, '--json'], dir)
        assert.equal(result.code, 0, result.stderr)
        assert.deepEqual(JSON.parse(result.stdout).disk, { total: sizes.db + sizes.wal + sizes.shm, ...sizes })
      } finally {
        other.close()
      }
    })

    it('shows the oldest and newest entry with their age', async () => {
      await fill(['/first'], [], () => Date.now() - 3 * 3_600_000)
      await fill(['/second'], [], () => Date.now() - 5 * 60_000)
      const result = await cli(['stats', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^Oldest +\S+ \(3 h ago\)$/m)
      assert.match(result.stdout, /^Newest +\S+ \(5 min ago\)$/m)
    })

    it('shows an entry dated ahead of its clock as in the future, not as 0 s ago', async () => {
      await fill(['/ahead'], [], () => Date.now() + 2 * 3_600_000 + 60_000)
      const result = await cli(['stats', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^Newest +\S+ \(in 2 h\)$/m)
    })

    it('names the cache in the command it suggests for unreadable entries, quoted for a shell', async () => {
      const odd = join(dir, "it's here.sqlite")
      db = odd
      await fill(['/a', '/b'], [])
      const corrupt = new Database(db)
      corrupt.prepare("UPDATE entries SET meta = 'garbage' WHERE url LIKE '%/b'").run()
      corrupt.close()
      const result = await cli(['stats', '--db', odd], dir)
      assert.equal(result.code, 0, result.stderr)
      const quoted = `'${odd.replace(/'/g, `'\\''`)}'`
      assert.ok(result.stdout.includes(`(remove with: fetch-http-cache delete --invalid --db ${quoted})\n`), result.stdout)
      const removed = await run(
        'sh',
        ['-c', `${[process.execPath, '--import', TSX, CLI].map(shellQuote).join(' ')} delete --invalid --db ${quoted} --yes`],
        dir,
      )
      assert.equal(removed.code, 0, removed.stderr)
      assert.equal(removed.stdout, 'Deleted 1 entry.\n')
    })

    it('reads ./http_cache.sqlite in the working directory without --db', async () => {
      await fill(['/here'], [])
      const result = await cli(['stats', '--json'], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(JSON.parse(result.stdout).responses, 1)
    })

    it('resolves a relative --db against the working directory', async () => {
      await fill(['/rel'], [])
      const result = await cli(['urls', '--db', relative(ROOT, db)], ROOT)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `${origin.url}/rel\n`)
    })
  })
  describe('urls', () => {
    it('lists the stored request URLs, sorted, one per line or as a JSON array', async () => {
      await fill()
      const expected = [`${origin.url}/a?y=1&x=2`, `${origin.url}/b`, `${origin.url}/old`]
      const text = await cli(['urls', '--db', db], dir)
      assert.equal(text.code, 0, text.stderr)
      assert.equal(text.stdout, expected.map((url) => `${url}\n`).join(''))
      const json = await cli(['urls', '--db', db, '--json'], dir)
      assert.deepEqual(JSON.parse(json.stdout), expected)
    })

    it('prints nothing for an empty cache', async () => {
      await fill([], [])
      const result = await cli(['urls', '--db', db], dir)
      assert.equal(result.code, 0)
      assert.equal(result.stdout, '')
    })
  })
  describe('delete', () => {
    it('--expired deletes the expired responses only', async () => {
      await fill()
      const result = await cli(['delete', '--expired', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, 'Deleted 1 entry.\n')
      assert.deepEqual(await storedUrls(), [`${origin.url}/a?y=1&x=2`, `${origin.url}/b`])
    })

    it('--older-than deletes the responses stored before that age', async () => {
      // Stored two hours ago (through the engine's clock), so a slow CLI start cannot blur the cutoff.
      await fill(['/first'], [], () => Date.now() - 2 * 3_600_000)
      await fill(['/second'], [])
      const result = await cli(['delete', '--older-than', '1h', '--db', db, '--json'], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout), { deleted: 1 })
      assert.deepEqual(await storedUrls(), [`${origin.url}/second`])
      const none = await cli(['delete', '--older-than', '7d', '--db', db, '--json'], dir)
      assert.deepEqual(JSON.parse(none.stdout), { deleted: 0 })
      const all = await cli(['delete', '--older-than', '0', '--yes', '--db', db, '--json'], dir)
      assert.deepEqual(JSON.parse(all.stdout), { deleted: 1 })
    })

    it('--older-than an age past what a Date holds is capped at 2^31 s like any duration: nothing that old, nothing deleted', async () => {
      await fill()
      for (const age of ['9000000000000', '200000000d', '99999999999999999999999']) {
        const result = await cli(['delete', '--older-than', age, '--db', db, '--json'], dir)
        assert.equal(result.code, 0, `${age}: ${result.stdout}${result.stderr}`)
        assert.deepEqual(JSON.parse(result.stdout), { deleted: 0 }, age)
      }
      assert.equal((await storedUrls()).length, 3)
    })

    it('--url deletes every response for each URL given, compared normalized', async () => {
      await fill()
      const result = await cli(['delete', '--url', `${origin.url}/a?x=2&y=1`, '--url', `${origin.url}/old`, '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, 'Deleted 2 entries.\n')
      assert.deepEqual(await storedUrls(), [`${origin.url}/b`])
    })

    it('--invalid deletes the rows that cannot be read, and combines with --expired', async () => {
      await fill()
      const corrupt = new Database(db)
      // The key column holds the key's bytes (stores/sqlite-schema.ts keyColumn).
      const { key } = corrupt
        .prepare<[], { key: string }>("SELECT lower(hex(key)) AS key FROM entries WHERE url LIKE '%/b'")
        .get() ?? { key: '' }
      corrupt.prepare("UPDATE entries SET meta = '{' WHERE key = unhex(?)").run(key)
      corrupt.close()
      assert.ok((await storedUrls()).includes(`invalid:${key}`))
      const result = await cli(['delete', '--invalid', '--expired', '--db', db, '--json'], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout), { deleted: 2 })
      assert.deepEqual(await storedUrls(), [`${origin.url}/a?y=1&x=2`])
    })
  })
  describe('clear', () => {
    it('deletes everything and keeps the file usable', async () => {
      await fill()
      const result = await cli(['clear', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, 'Cleared the cache: deleted 3 entries.\n')
      assert.deepEqual(await storedUrls(), [])
      await fill(['/again'], [])
      assert.deepEqual(await storedUrls(), [`${origin.url}/again`])
    })
  })
  describe('failures (exit status 1)', () => {
    it('a missing file is reported, and not created', async () => {
      for (const args of [['stats'], ['clear', '--db', join(dir, 'nope.sqlite')]]) {
        const result = await cli(args, dir)
        assert.equal(result.code, 1, args.join(' '))
        assert.match(result.stderr, /^fetch-http-cache: no cache file at .*(http_cache|nope)\.sqlite/)
        assert.equal(result.stdout, '')
      }
      assert.deepEqual(await readdir(dir), [])
    })

    it('a file that is not SQLite is refused, and left exactly as it was', async () => {
      await writeFile(db, 'not a database, but somebody needs it')
      const result = await cli(['clear', '--db', db], dir)
      assert.equal(result.code, 1)
      assert.match(result.stderr, /is not a SQLite database/)
      assert.deepEqual(await readdir(dir), ['http_cache.sqlite'])
      assert.equal(await readFile(db, 'utf8'), 'not a database, but somebody needs it')
    })

    it("another application's SQLite database is refused, and left alone", async () => {
      const other = new Database(db)
      other.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')")
      other.close()
      const result = await cli(['clear', '--db', db], dir)
      assert.equal(result.code, 1)
      assert.match(result.stderr, /is not a fetch-http-cache file/)
      const check = new Database(db, { readonly: true })
      const tables = check.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
      const notes = check.prepare<[], string>('SELECT text FROM notes').pluck().all()
      check.close()
      assert.deepEqual(tables, ['notes'])
      assert.deepEqual(notes, ['keep me'])
    })

    it('a directory is refused', async () => {
      const result = await cli(['stats', '--db', dir], dir)
      assert.equal(result.code, 1)
      assert.match(result.stderr, /is not a file/)
    })
  })
})
