import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { createCachedFetch } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { ROOT } from '../helpers/children.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { cli as cliInProcess, cliProcess } from './fixture.js'

/** `fetch-http-cache --redis URL`: the CLI on a Redis cache, against a real redis-server. */

/** Runs the CLI in this process, capturing what it prints. */
const cli = (...args: string[]) => cliInProcess(args, ROOT)

describe('fetch-http-cache --redis URL', { skip: redisMissing }, () => {
  let server: RedisServer
  let origin: Origin

  /** Stores responses for `paths` under `prefix` through a real cache, and waits until they are in. */
  async function fill(prefix: string, paths: string[], expired: string[] = []): Promise<void> {
    const cachedFetch = createCachedFetch({
      backend: 'redis',
      redis: { url: server.url, prefix, commandTimeout: 10_000, connectTimeout: 30_000 },
    })
    try {
      await capabilities(cachedFetch.cache.store).ready?.ready()
      const responses: Response[] = []
      for (const path of paths) responses.push(await cachedFetch(origin.url + path))
      for (const path of expired) {
        const expireAfter = new Date(Date.now() - 60_000)
        responses.push(await cachedFetch(origin.url + path, { cacheOptions: { expireAfter } }))
      }
      for (const response of responses) {
        await response.arrayBuffer()
        assert.equal(await cacheInfo(response)?.stored, true, `${response.url} stored`)
      }
    } finally {
      await cachedFetch.cache.close()
    }
  }

  before(async () => {
    server = await startRedis()
    origin = await startOrigin()
  })
  after(async () => {
    await origin.close()
    await server.stop()
  })

  it('stats, urls and delete work on the prefix given', async () => {
    const prefix = uniquePrefix('cli')
    await fill(prefix, ['/a', '/b'], ['/old'])
    const stats = await cli('stats', '--redis', server.url, '--prefix', prefix, '--json')
    assert.equal(stats.code, 0, stats.stderr)
    const json = JSON.parse(stats.stdout) as Record<string, unknown>
    assert.equal(json.responses, 3)
    assert.equal(json.fresh, 2)
    assert.equal(json.expired, 1)
    assert.equal(json.server, server.url)
    assert.equal(json.prefix, prefix)
    assert.equal('file' in json || 'disk' in json, false)
    const text = await cli('stats', '--redis', server.url, '--prefix', prefix)
    assert.match(text.stdout, new RegExp(`^Server +${server.url}\nPrefix +${prefix}\nResponses +3 `))
    assert.doesNotMatch(text.stdout, /File|maxSize|On disk/, 'a Redis server is no file, and maxSize is a SQLite option')

    const urls = await cli('urls', '--redis', server.url, '--prefix', prefix)
    assert.deepEqual(urls.stdout.trim().split('\n'), [`${origin.url}/a`, `${origin.url}/b`, `${origin.url}/old`])

    const deleted = await cli('delete', '--expired', '--redis', server.url, '--prefix', prefix)
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal(deleted.stdout, 'Deleted 1 entry.\n')
    assert.equal((await cli('urls', '--redis', server.url, '--prefix', prefix)).stdout.trim().split('\n').length, 2)
  })

  it('clear empties its prefix and no other', async () => {
    const mine = uniquePrefix('cli-mine')
    const theirs = uniquePrefix('cli-theirs')
    await fill(mine, ['/c', '/d'])
    await fill(theirs, ['/c'])
    const cleared = await cli('clear', '--redis', server.url, '--prefix', mine)
    assert.equal(cleared.code, 0, cleared.stderr)
    assert.equal(cleared.stdout, 'Cleared the cache: deleted 2 entries.\n')
    assert.equal((await cli('urls', '--redis', server.url, '--prefix', mine)).stdout, '')
    assert.equal((await cli('urls', '--redis', server.url, '--prefix', theirs)).stdout, `${origin.url}/c\n`)
  })

  it('only import writes to a prefix without a cache: stats, urls, export, delete and clear leave no key behind', async () => {
    const typo = uniquePrefix('cli-typo')
    const dir = await tempDir()
    try {
      for (const args of [
        ['stats'],
        ['urls'],
        ['export', '--har', join(dir.dir, 'out.har')],
        ['delete', '--expired'],
        ['clear'],
      ]) {
        const run = await cli(...args, '--redis', server.url, '--prefix', typo)
        assert.equal(run.code, 0, `${args[0]}: ${run.stderr}`)
      }
      assert.equal(server.cli('--scan', '--pattern', `${typo}*`).trim(), '', 'no key under the prefix')
    } finally {
      await dir.cleanup()
    }
  })

  it('uses the default prefix without --prefix, and never prints the password of the URL', async () => {
    await fill('fetch-http-cache:', ['/default'])
    server.cli('CONFIG', 'SET', 'requirepass', 'hunter2')
    try {
      const stats = await cli('stats', '--redis', server.url.replace('redis://', 'redis://:hunter2@'))
      assert.equal(stats.code, 0, stats.stderr)
      assert.match(stats.stdout, /Responses\s+1 /)
      assert.match(stats.stdout, /redis:\/\/:\*\*\*@127\.0\.0\.1/)
      assert.equal(stats.stdout.includes('hunter2'), false)
    } finally {
      server.cli('-a', 'hunter2', '--no-auth-warning', 'CONFIG', 'SET', 'requirepass', '')
    }
  })

  it('fails with status 1 and a message naming the server (password hidden) and the cause when it cannot be reached', async () => {
    const port = server.port + 1
    const run = await cli('urls', '--redis', `redis://127.0.0.1:${port}`)
    assert.equal(run.code, 1)
    assert.equal(run.stdout, '')
    assert.match(
      run.stderr,
      new RegExp(
        `^fetch-http-cache: Redis at redis://127\\.0\\.0\\.1:${port} is unavailable \\(listing entries\\): .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\n$`,
      ),
    )
    const json = await cli('stats', '--json', '--redis', `redis://:hunter2@127.0.0.1:${port}/3`)
    assert.equal(json.code, 1)
    const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } }
    assert.equal(error.code, 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE')
    assert.match(error.message, new RegExp(`^Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/3 .*ECONNREFUSED`))
    assert.equal(json.stdout.includes('hunter2'), false)
  })

  it('refuses --redis with --db, --prefix without --redis, and a URL that is not redis:// (status 2)', async () => {
    for (const args of [
      ['stats', '--redis', server.url, '--db', 'x.sqlite'],
      ['stats', '--prefix', 'p:'],
      ['stats', '--redis', 'http://localhost:6379'],
    ]) {
      const run = await cli(...args)
      assert.equal(run.code, 2, args.join(' '))
      assert.match(run.stderr, /Run "fetch-http-cache --help" for usage/)
    }
  })

  it('ends as a process once done (the connection does not keep it alive)', async () => {
    const run = await cliProcess(['urls', '--redis', server.url, '--prefix', uniquePrefix('cli-exit')], ROOT, 60_000)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, '')
  })
})
