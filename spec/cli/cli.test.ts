import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createCachedFetchWithClock } from '../../lib/install/session.js'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLI = join(ROOT, 'lib', 'cli', 'main.ts')
const TSX = import.meta.resolve('tsx')

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `command` to completion (`timeout` ms at most), whatever its exit status. */
function run(command: string, args: string[], cwd: string, timeout = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error)
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
    })
  })
}

/** `arg` quoted for sh. */
const shellQuote = (arg: string): string => `'${arg.replace(/'/g, "'\\''")}'`

/** Runs the CLI from source, as a child process. */
const cli = (args: string[], cwd: string): Promise<Run> => run(process.execPath, ['--import', TSX, CLI, ...args], cwd)

describe('fetch-http-cache (the CLI)', () => {
  let origin: Origin
  let dir: string
  let cleanup: () => Promise<void>
  let db: string

  /** Fills `db` through real requests: two fresh responses, one expired; returns their URLs. */
  const fill = async (paths = ['/a?y=1&x=2', '/b'], expired = ['/old'], now: () => number = Date.now): Promise<void> => {
    const cachedFetch = createCachedFetchWithClock({ cacheName: db }, now)
    try {
      for (const path of paths) await (await cachedFetch(origin.url + path)).arrayBuffer()
      for (const path of expired) {
        await (
          await cachedFetch(origin.url + path, { cacheOptions: { expireAfter: new Date(Date.now() - 60_000) } })
        ).arrayBuffer()
      }
    } finally {
      await cachedFetch.cache.close()
    }
  }

  /** The request URLs in the file, read in this process. */
  const storedUrls = async (): Promise<string[]> => {
    const store = new SqliteStore({ path: db })
    try {
      const urls: string[] = []
      for await (const r of store.records()) urls.push(r.entry?.url ?? `invalid:${r.key}`)
      return urls.sort()
    } finally {
      await store.close()
    }
  }

  beforeEach(async () => {
    origin = await startOrigin()
    ;({ dir, cleanup } = await tempDir('fetch-http-cache-cli-'))
    db = join(dir, 'http_cache.sqlite')
  })
  afterEach(async () => {
    await origin.close()
    await cleanup()
  })

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

  describe('delete while another process holds the write lock past busyTimeout', () => {
    it('fails with the store error (exit 1), as clear does, and deletes nothing', async () => {
      await fill()
      // Another connection holds the write lock until told to let go (its stdin ends).
      const locker = spawn(
        process.execPath,
        [
          '-e',
          `const db = new (require('better-sqlite3'))(${JSON.stringify(db)}); db.exec('BEGIN EXCLUSIVE');
           process.stdout.write('locked\\n');
           process.stdin.on('end', () => { db.exec('COMMIT'); db.close() }).resume()`,
        ],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
      )
      const released = new Promise((resolve) => locker.on('close', resolve))
      try {
        await new Promise((resolve) => locker.stdout.once('data', resolve))
        // The store gives the write up after its default busyTimeout (5 s).
        for (const args of [['delete', '--url', `${origin.url}/b`], ['clear']]) {
          const result = await run(process.execPath, ['--import', TSX, CLI, ...args, '--db', db, '--json'], dir, 60_000)
          assert.equal(result.code, 1, `${args[0]}: ${result.stdout}${result.stderr}`)
          const { error } = JSON.parse(result.stdout)
          assert.equal(error.code, 'FETCH_HTTP_CACHE_STORE_ERROR', args[0])
          assert.match(error.message, /given up\): database is locked/, args[0])
        }
      } finally {
        locker.stdin.end()
        assert.equal(await released, 0)
      }
      assert.deepEqual(await storedUrls(), [`${origin.url}/a?y=1&x=2`, `${origin.url}/b`, `${origin.url}/old`])
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

  describe('usage (exit status 2, or 0 for --help)', () => {
    const cases: [string, string[], RegExp][] = [
      ['no command', [], /missing command/],
      ['an unknown command', ['purge'], /^fetch-http-cache: unknown command "purge"\n/],
      ['a misspelt command, with the closest one', ['stat'], /unknown command "stat" \(did you mean "stats"\?\)/],
      ['an unknown option', ['stats', '--verbose'], /^fetch-http-cache: unknown option "--verbose"\n/],
      ['an unknown short option', ['stats', '-x'], /^fetch-http-cache: unknown option "-x"\n/],
      [
        'a misspelt option, with the closest one',
        ['delete', '--older_than', '1h'],
        /unknown option "--older_than" \(did you mean "--older-than"\?\)/,
      ],
      ['an extra argument', ['urls', 'extra'], /unexpected argument "extra"/],
      [
        'delete without what to delete',
        ['delete'],
        /delete needs --expired, --older-than AGE, --url URL, --url-pattern P, --tag TAG or --invalid/,
      ],
      ['a bad --older-than', ['delete', '--older-than', 'a while'], /--older-than takes an age .*"a while"/],
      [
        'a negative --older-than',
        ['delete', '--older-than', '-5'],
        /^fetch-http-cache: --older-than takes an age \(how long ago\), which cannot be negative, got "-5"\n/,
      ],
      ['a negative --older-than=', ['delete', '--older-than=-5m'], /which cannot be negative, got "-5m"/],
      ['a relative --url', ['delete', '--url', '/a'], /--url takes an absolute URL, got "\/a"/],
      ['a delete option on another command', ['stats', '--expired'], /--expired is an option of "delete", not of "stats"/],
      ['--yes on another command', ['stats', '--yes'], /--yes is an option of "delete", not of "stats"/],
      ['--db without a path', ['stats', '--db'], /^fetch-http-cache: --db needs a path\n/],
      ['--db followed by another option', ['stats', '--db', '--yes'], /^fetch-http-cache: --db needs a path\n/],
      ['--older-than without an age', ['delete', '--older-than'], /^fetch-http-cache: --older-than needs an age\n/],
      ['a value given to a flag', ['stats', '--json=yes'], /^fetch-http-cache: --json takes no value, got "--json=yes"\n/],
      ['help for an unknown command', ['help', 'purge'], /unknown command "purge"/],
      ['--har on another command', ['stats', '--har', 'x.har'], /--har is an option of "export" and "import", not of "stats"/],
      ['import without --har', ['import', '--dir', 'fixtures'], /import needs --har FILE/],
      ['--dir together with --db', ['urls', '--dir', 'fixtures', '--db', 'x.sqlite'], /--db and --dir cannot be combined/],
      ['--tag on another command', ['urls', '--tag', 'user-42'], /--tag is an option of "delete", not of "urls"/],
    ]
    for (const [what, args, message] of cases) {
      it(`rejects ${what}, before touching any file`, async () => {
        const result = await cli(args, dir)
        assert.equal(result.code, 2, result.stderr)
        assert.match(result.stderr, message)
        assert.match(result.stderr, /\nRun "fetch-http-cache --help" for usage\.\n$/)
        assert.doesNotMatch(result.stderr, /To specify|ambiguous|argument missing/, "the parser's own message")
        assert.equal(result.stdout, '')
        assert.deepEqual(await readdir(dir), [])
      })
    }

    it('--help and help print the usage of every command and exit 0', async () => {
      for (const args of [['--help'], ['delete', '-h'], ['help'], ['help', 'delete']]) {
        const result = await cli(args, dir)
        assert.equal(result.code, 0)
        assert.match(result.stdout, /^Usage: fetch-http-cache <command> \[options\]/)
        for (const command of [
          'stats',
          'urls',
          'delete --expired',
          'delete --older-than AGE',
          'delete --url URL',
          'delete --url-pattern P',
          'delete --tag TAG',
          'clear',
          'export --har FILE',
          'import --har FILE',
          '--db PATH',
          '--dir PATH',
          '--json',
          '--yes',
          '--version',
        ]) {
          assert.ok(result.stdout.includes(command), command)
        }
      }
    })
  })

  describe('--version', () => {
    it("prints the package's name and version from package.json, and exits 0", async () => {
      const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
      const result = await cli(['--version'], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `${manifest.name} ${manifest.version}\n`)
      assert.equal(result.stderr, '')
    })
  })

  describe('errors under --json', () => {
    it('a usage error is one JSON object on stdout, exit status 2', async () => {
      const result = await cli(['stats', '--json', '--bogus'], dir)
      assert.equal(result.code, 2)
      assert.deepEqual(JSON.parse(result.stdout), { error: { code: 'USAGE', message: 'unknown option "--bogus"' } })
      assert.equal(result.stderr, '')
    })

    it('a missing cache file is one JSON object on stdout, exit status 1', async () => {
      const result = await cli(['urls', '--json', '--db', join(dir, 'nope.sqlite')], dir)
      assert.equal(result.code, 1)
      const { error } = JSON.parse(result.stdout)
      assert.equal(error.code, 'NO_CACHE_FILE')
      assert.match(error.message, /^no cache file at .*nope\.sqlite/)
      assert.equal(result.stderr, '')
    })

    it('a file that is not a cache file has its own code', async () => {
      await writeFile(db, 'not a database')
      const result = await cli(['stats', '--json', '--db', db], dir)
      assert.equal(result.code, 1)
      assert.equal(JSON.parse(result.stdout).error.code, 'NOT_SQLITE')
    })

    it('"--json" after "--" is an argument, not the option', async () => {
      const result = await cli(['stats', '--bogus', '--', '--json'], dir)
      assert.equal(result.code, 2)
      assert.equal(result.stdout, '')
      assert.match(result.stderr, /^fetch-http-cache: unknown option "--bogus"/)
    })
  })

  describe('a delete that would remove every entry', () => {
    const deletes: [string, string[]][] = [
      ['--older-than 0', ['--older-than', '0']],
      ['--older-than 1s', ['--older-than', '1s']],
      ['--expired, when every response has expired', ['--expired']],
      ['--url, naming every URL', ['--url', '/a', '--url', '/b']],
    ]
    for (const [what, args] of deletes) {
      it(`${what}: refused without --yes when there is no terminal (exit 2), nothing deleted`, async () => {
        await fill([], ['/a', '/b'], () => Date.now() - 10_000)
        const withUrls = args.map((arg) => (arg.startsWith('/') ? origin.url + arg : arg))
        const result = await cli(['delete', ...withUrls, '--db', db], dir)
        assert.equal(result.code, 2, result.stderr)
        assert.equal(result.stderr, `fetch-http-cache: this delete would remove all 2 entries in ${db}; add --yes to confirm\n`)
        assert.equal(result.stdout, '')
        assert.deepEqual(await storedUrls(), [`${origin.url}/a`, `${origin.url}/b`])

        const confirmed = await cli(['delete', ...withUrls, '--yes', '--db', db], dir)
        assert.equal(confirmed.code, 0, confirmed.stderr)
        assert.equal(confirmed.stdout, 'Deleted 2 entries.\n')
        assert.deepEqual(await storedUrls(), [])
      })
    }

    it('counts unreadable rows: --expired alone leaves them, so it needs no --yes', async () => {
      await fill([], ['/a', '/b'])
      const corrupt = new Database(db)
      corrupt.prepare("UPDATE entries SET meta = 'garbage' WHERE url LIKE '%/b'").run()
      corrupt.close()
      const result = await cli(['delete', '--expired', '--db', db, '--json'], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout), { deleted: 1 })
      const all = await cli(['delete', '--invalid', '--db', db, '--json'], dir)
      assert.equal(all.code, 2)
      assert.deepEqual(JSON.parse(all.stdout), {
        error: {
          code: 'CONFIRMATION_REQUIRED',
          message: `this delete would remove the only entry in ${db}; add --yes to confirm`,
        },
      })
    })

    it('an empty cache needs no --yes', async () => {
      await fill([], [])
      const result = await cli(['delete', '--older-than', '0', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, 'Deleted 0 entries.\n')
    })

    it('-y is --yes', async () => {
      await fill(['/a'], [])
      const result = await cli(['delete', '--older-than', '0', '-y', '--db', db], dir)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(await storedUrls(), [])
    })

    describe('on a terminal', { skip: !existsSync('/usr/bin/script') && 'no script(1) to make a terminal' }, () => {
      /** Runs the CLI under script(1), which gives it a pseudo-terminal; types `answer` at the prompt. */
      const onTerminal = (args: string[], answer: string): Promise<Run> =>
        new Promise((resolve, reject) => {
          const command = [process.execPath, '--import', TSX, CLI, ...args].map(shellQuote).join(' ')
          const child = spawn('script', ['-qec', command, '/dev/null'], {
            cwd: dir,
            env: { ...process.env, NODE_OPTIONS: '' },
            stdio: ['pipe', 'pipe', 'pipe'],
          })
          let stdout = ''
          let answered = false
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk
            if (!answered && stdout.includes('[y/N] ')) {
              answered = true
              child.stdin.write(`${answer}\r`)
            }
          })
          child.on('error', reject)
          child.on('close', (code) => {
            clearTimeout(timer)
            resolve({ code: code ?? -1, stdout: stdout.replace(/\r\n/g, '\n'), stderr: '' })
          })
        })

      it('asks, and deletes on "y"', async () => {
        await fill(['/a', '/b'], [])
        const result = await onTerminal(['delete', '--older-than', '0', '--db', db], 'y')
        assert.equal(result.code, 0, result.stdout)
        assert.ok(result.stdout.includes(`This deletes all 2 entries in ${db}. Delete? [y/N] `), result.stdout)
        assert.match(result.stdout, /Deleted 2 entries\.\n/)
        assert.deepEqual(await storedUrls(), [])
      })

      it('asks, and deletes nothing on any other answer (exit 1)', async () => {
        await fill(['/a', '/b'], [])
        const result = await onTerminal(['delete', '--older-than', '0', '--db', db], 'n')
        assert.equal(result.code, 1, result.stdout)
        assert.match(result.stdout, /fetch-http-cache: nothing deleted\n/)
        assert.deepEqual(await storedUrls(), [`${origin.url}/a`, `${origin.url}/b`])
      })
    })
  })

  describe('a reader that closes the pipe early (| head -1)', () => {
    /** Runs the CLI with its stdout (or stderr) pipe closed by the reader before the CLI writes. */
    const closedPipe = (args: string[], closed: 'stdout' | 'stderr'): Promise<Run> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
          cwd: dir,
          env: { ...process.env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        child[closed].destroy()
        let stdout = ''
        let stderr = ''
        if (closed !== 'stdout') child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
        if (closed !== 'stderr') child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
        child.on('error', reject)
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
      })

    it('ends the command quietly with its own exit status, for every command that prints', async () => {
      await fill()
      const cases: [string[], 'stdout' | 'stderr', number][] = [
        [['urls', '--db', db], 'stdout', 0],
        [['stats', '--db', db], 'stdout', 0],
        [['urls', '--db', db, '--json'], 'stdout', 0],
        [['--help'], 'stdout', 0],
        [['--version'], 'stdout', 0],
        [['export', '--har', join(dir, 'out.har'), '--db', db], 'stdout', 0],
        [['urls', '--json', '--db', join(dir, 'nope.sqlite')], 'stdout', 1],
        [['urls', '--db', join(dir, 'nope.sqlite')], 'stderr', 1],
        [['stats', '--bogus'], 'stderr', 2],
      ]
      for (const [args, closed, code] of cases) {
        const result = await closedPipe(args, closed)
        assert.equal(result.code, code, `${args.join(' ')} (${closed} closed): ${result.stderr}`)
        assert.equal(result.stderr, '', args.join(' '))
      }
    })
  })

  describe('the bin', () => {
    it('starts with a node shebang', async () => {
      assert.match(await readFile(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/)
    })

    describe('built with tsconfig.build.json', {
      skip: !existsSync(join(ROOT, 'tsconfig.build.json')) && 'no tsconfig.build.json',
    }, () => {
      // Built once inside the repository (git-ignored .scratch/), so package.json and node_modules apply.
      const out = join(ROOT, '.scratch', `cli-build-${process.pid}`)
      before(async () => {
        const build = await run(
          process.execPath,
          [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
          ROOT,
          60_000,
        )
        assert.equal(build.code, 0, build.stdout + build.stderr)
      })
      after(() => rm(out, { recursive: true, force: true }))

      it('compiles to a runnable dist/cli/main.js', async () => {
        assert.match(await readFile(join(out, 'cli', 'main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/)
        await fill(['/built'], [])
        const result = await run(process.execPath, [join(out, 'cli', 'main.js'), 'urls', '--db', db], dir)
        assert.equal(result.code, 0, result.stderr)
        assert.equal(result.stdout, `${origin.url}/built\n`)
      })

      it('ships source maps that carry the TypeScript they point at (lib/ is not in the tarball)', async () => {
        const maps = (await readdir(out, { recursive: true })).filter((file) => file.endsWith('.js.map'))
        assert.ok(maps.length > 10, `only ${maps.length} maps`)
        for (const file of maps) {
          const map = JSON.parse(await readFile(join(out, file), 'utf8')) as { sources: string[]; sourcesContent?: string[] }
          assert.equal(map.sources.length, 1, file)
          const source = join(ROOT, 'lib', file.replace(/\.js\.map$/, '.ts'))
          assert.equal(map.sourcesContent?.[0], await readFile(source, 'utf8'), file)
        }
      })
    })
  })
})
