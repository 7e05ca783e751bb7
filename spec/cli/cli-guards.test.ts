import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { Origin } from '../helpers/origin.js'

import { CLI, cli, cliProcess, cliState, ROOT, type Run, shellQuote, TSX } from './fixture.js'

describe('fetch-http-cache (the CLI): locks, pipes and confirmations', () => {
  let origin: Origin
  let dir: string
  let db: string
  const { fill, storedUrls } = cliState(
    (state) => {
      ;({ origin, dir, db } = state)
    },
    () => db,
  )

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
          const result = await cliProcess([...args, '--db', db, '--json'], dir, 60_000)
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
})
