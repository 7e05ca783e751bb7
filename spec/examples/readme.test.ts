import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const INDEX = pathToFileURL(join(ROOT, 'lib', 'index.ts')).href
const TSX = import.meta.resolve('tsx')
const UNDICI = import.meta.resolve('undici')

/** The TypeScript blocks of README.md under the heading `heading`. */
function blocksUnder(heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf(`\n${heading}\n`)
  assert.notEqual(start, -1, `README.md has a "${heading}" section`)
  const next = readme.slice(start + heading.length + 2).search(/\n#{1,3} /)
  const section = readme.slice(start, next === -1 ? undefined : start + heading.length + 2 + next)
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

/**
 * Runs a README block as written, in a child process (installCache patches globals), with the package
 * imports pointed at lib/ and this checkout's undici and example.com at a loopback origin, followed by `check`.
 */
function run(code: string, origin: Origin, dir: string, check: string): Promise<string> {
  const file = join(dir, `example-${Math.random().toString(36).slice(2)}.mts`)
  const source = code
    .replaceAll("'fetch-http-cache'", `'${INDEX}'`)
    .replaceAll("'undici'", `'${UNDICI}'`)
    .replaceAll('https://example.com', origin.url)
  writeFileSync(file, `${source}\n${check}\n`)
  return new Promise((resolve, reject) => {
    const options = { cwd: dir, timeout: 15_000, env: { ...process.env, NODE_OPTIONS: '' } }
    execFile(process.execPath, ['--import', TSX, file], options, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout.trim())
    })
  })
}

describe('README examples that never read the first body, run as written', () => {
  let origin: Origin
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    origin = await startOrigin({
      '/data.json': (_req, res) => void res.end('{"ok":true}'),
      '/': (_req, res) => void res.end('home'),
    })
    ;({ dir, cleanup } = await tempDir('fetch-http-cache-readme-'))
  })
  after(async () => {
    await origin.close()
    await cleanup()
  })

  it('Quick start: the second call is a hit', async () => {
    const [quick] = blocksUnder('## Quick start')
    const before = origin.count('/data.json')
    const out = await run(
      quick as string,
      origin,
      dir,
      'console.log(cacheInfo(second)?.fromCache, second.headers.get("cache-status"))',
    )
    assert.match(out, /^true fetch-http-cache; hit; ttl=\d+$/)
    assert.equal(origin.count('/data.json') - before, 1)
  })

  it('Quick start, installCache(): a second fetch is a hit', async () => {
    const [, install] = blocksUnder('## Quick start')
    const before = origin.count('/data.json')
    const check = 'console.log((await fetch("https://example.com/data.json")).headers.get("cache-status"))'
    const out = await run(install as string, origin, dir, check.replace('https://example.com', origin.url))
    assert.match(out, /^fetch-http-cache; hit/)
    assert.equal(origin.count('/data.json') - before, 1)
  })

  it('cacheInterceptor(): a second request is a hit', async () => {
    const [block] = blocksUnder('### undici users composing dispatchers by hand')
    const before = origin.count('/')
    const check = `console.log((await request('${origin.url}/', { dispatcher: agent })).headers['cache-status'])`
    const out = await run(block as string, origin, dir, check)
    assert.match(out, /^fetch-http-cache; hit/)
    assert.equal(origin.count('/') - before, 1)
  })
})
