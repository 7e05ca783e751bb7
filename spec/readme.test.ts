import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ROOT } from './helpers/children.js'
import { type Origin, startOrigin } from './helpers/origin.js'
import { type RedisServer, redisMissing, startRedis } from './helpers/redis-server.js'

/**
 * Every ```ts block of README.md type-checks as written (its imports included), and every block not
 * marked `<!-- not run: why -->` runs as a program of its own, in a temporary directory, with its
 * example.com URLs pointed at a loopback origin; blocks marked `<!-- needs: redis -->` run against a
 * loopback redis-server (skipped, saying how to get one, when it is not installed).
 */

const run = promisify(execFile)
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const packageName = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name

interface Block {
  line: number
  code: string
  /** Why it is not run, from the `<!-- not run: … -->` comment before it. */
  notRun: string | undefined
  /** Marked `<!-- needs: redis -->`: run against a loopback redis-server (its URL in REDIS_URL and for redis://cache.internal:6379). */
  redis: boolean
}

function blocks(): Block[] {
  const found: Block[] = []
  const lines = readme.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue
    const start = i
    const body: string[] = []
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i] as string)
    const mark = lines[start - 1] ?? ''
    const notRun = /^<!-- not run: (.+) -->$/.exec(mark)?.[1]
    found.push({ line: start + 1, code: body.join('\n'), notRun, redis: mark === '<!-- needs: redis -->' })
  }
  return found
}

/** The block as a module of this repository: the package's imports point at lib/index.ts. */
function asModule(code: string): string {
  const imports = code.replaceAll(`from '${packageName}'`, "from '../../lib/index.js'")
  // Every block is a module of its own, even without imports.
  return `${imports}\nexport {}\n`
}

const all = blocks()

/** The blocks between a heading line of README.md and the next heading, to check what they claim. */
function blocksUnder(heading: string): Block[] {
  const lines = readme.split('\n')
  const start = lines.indexOf(heading)
  assert.notEqual(start, -1, `README.md has a "${heading}" heading`)
  const next = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line))
  return all.filter((block) => block.line > start && (next === -1 || block.line <= next))
}

describe('README examples', () => {
  let origin: Origin
  let redis: RedisServer | undefined
  let cwd: string
  /** The blocks as modules, in a directory of the repository (so `undici`, `redis` and lib/ resolve); one per run. */
  let DIR: string
  before(async () => {
    DIR = mkdtempSync(join(ROOT, 'spec', '.readme-'))
    if (!redisMissing && all.some((block) => block.redis)) redis = await startRedis()
    origin = await startOrigin({
      '*': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60', etag: '"1"' }).end('{}')
      },
    })
    cwd = mkdtempSync(join(tmpdir(), 'fetch-http-cache-readme-'))
    all.forEach((block, i) => {
      writeFileSync(join(DIR, `block-${i + 1}.ts`), asModule(block.code))
    })
  })
  after(async () => {
    await origin.close()
    await redis?.kill()
    rmSync(DIR, { recursive: true, force: true })
    rmSync(cwd, { recursive: true, force: true })
  })

  it('has TypeScript examples to check', () => {
    assert.ok(all.length >= 10, `found ${all.length}`)
  })

  it('every example type-checks as written', async () => {
    const config = join(DIR, 'tsconfig.json')
    writeFileSync(
      config,
      JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'], compilerOptions: { noEmit: true } }),
    )
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    try {
      await run(process.execPath, [tsc, '-p', config], { cwd: ROOT, timeout: 120_000 })
    } catch (error) {
      const output = String((error as { stdout?: string }).stdout)
      const located = output.replace(/block-(\d+)\.ts\((\d+)/g, (_, n: string, line: string) => {
        const block = all[Number(n) - 1]
        return `README.md line ${(block?.line ?? 0) + Number(line)} (block ${n}, line ${line}`
      })
      assert.fail(located)
    }
  })

  /** Runs a block as written with `check` appended, and returns what the check printed. */
  async function runWith(block: Block, name: string, check: string): Promise<string> {
    const file = join(DIR, `${name}.ts`)
    const code = block.code.replace(/https:\/\/(api\.)?example\.com/g, origin.url)
    writeFileSync(file, asModule(`${code}\n${check.replaceAll('ORIGIN', origin.url)}`))
    const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
    const { stdout } = await run(process.execPath, ['--import', tsx, file], {
      cwd,
      timeout: 30_000,
      env: { ...process.env, NODE_DEBUG: '' },
    })
    return stdout.trim()
  }

  // What the examples claim, for those that never read the first body: it is stored all the same.
  it('Quick start: the second call is a hit, as its comments say', async () => {
    const [quick] = blocksUnder('## Quick start')
    const before = origin.count('/data.json')
    const out = await runWith(
      quick as Block,
      'claim-quick',
      'console.log(cacheInfo(second)?.fromCache, second.headers.get("cache-status"))',
    )
    assert.match(out, /^true fetch-http-cache; hit; ttl=\d+$/)
    assert.equal(origin.count('/data.json') - before, 1)
  })

  it('Quick start, installCache(): a second fetch is a hit', async () => {
    const [, install] = blocksUnder('## Quick start')
    const before = origin.count('/data.json')
    const check = 'console.log((await fetch("ORIGIN/data.json")).headers.get("cache-status"))'
    assert.match(await runWith(install as Block, 'claim-install', check), /^fetch-http-cache; hit/)
    assert.equal(origin.count('/data.json') - before, 1)
  })

  it('cacheInterceptor(): a second request is a hit', async () => {
    const [block] = blocksUnder('### undici users composing dispatchers by hand')
    const before = origin.count('/')
    const check = "console.log((await request('ORIGIN/', { dispatcher: agent })).headers['cache-status'])"
    assert.match(await runWith(block as Block, 'claim-interceptor', check), /^fetch-http-cache; hit/)
    assert.equal(origin.count('/') - before, 1)
  })

  it('Filtering on the body: a body without "error" is stored, and the caller read it', async () => {
    const [block] = blocksUnder('### Filtering on the body')
    const check = 'console.log(await cacheInfo(response)?.stored, JSON.stringify(data))'
    assert.equal(await runWith(block as Block, 'claim-filter', check), 'true {}')
  })

  all.forEach((block, i) => {
    const title = `the example at README.md line ${block.line} runs`
    if (block.notRun || (block.redis && redisMissing)) {
      it(title, { skip: block.notRun ? `not run: ${block.notRun}` : redisMissing }, () => {})
      return
    }
    it(title, async () => {
      const file = join(DIR, `block-${i + 1}.ts`)
      // Every example.com URL goes to the loopback origin, over plain HTTP.
      let code = block.code.replace(/https:\/\/(api\.)?example\.com/g, origin.url)
      if (redis) code = code.replaceAll('redis://cache.internal:6379', redis.url)
      writeFileSync(file, asModule(code))
      const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
      const env = { ...process.env, NODE_DEBUG: '', ...(redis ? { REDIS_URL: redis.url } : {}) }
      try {
        await run(process.execPath, ['--import', tsx, file], { cwd, timeout: 30_000, env })
      } catch (error) {
        const { stderr, killed } = error as { stderr?: string; killed?: boolean }
        assert.fail(`${killed ? 'timed out' : 'failed'}: ${stderr}`)
      }
    })
  })
})
