import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Origin } from '../helpers/origin.js'

import { CLI, cli, cliState, ROOT, run } from './fixture.js'

describe('fetch-http-cache (the CLI): usage, versions and errors', () => {
  let origin: Origin
  let dir: string
  let db: string
  const { fill } = cliState(
    (state) => {
      ;({ origin, dir, db } = state)
    },
    () => db,
  )

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
