import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/origin.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DEMO = join(ROOT, 'examples', 'demo.ts')
const TSX = import.meta.resolve('tsx')

/** Runs `node --import tsx ...args` in `cwd` (15 s at most); resolves to its output, or rejects on failure. */
function node(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { cwd, timeout: 15_000, env: { ...process.env, NODE_OPTIONS: '', ...env } }
    execFile(process.execPath, ['--import', TSX, ...args], options, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/** A loopback port nobody listens on right now (the demo falls back to another one if it is taken). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('examples/demo.ts (npm run demo), run twice', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let first: string
  let second: string

  before(async () => {
    ;({ dir, cleanup } = await tempDir('fetch-http-cache-demo-'))
    const env = { DEMO_PORT: String(await freePort()) }
    first = await node([DEMO], dir, env)
    second = await node([DEMO], dir, env)
  })
  after(() => cleanup())

  it('the first run fetches from the origin, stores, and is served from the cache the second time', () => {
    assert.match(first, /^No cached responses yet: this run fills demo_cache\.sqlite\.$/m)
    assert.match(first, /^1\. 200 in [\d.]+ ms: a miss, fetched from the origin and stored in the cache file$/m)
    assert.match(first, /^2\. 200 in [\d.]+ ms: a hit, served from the cache \(stored a moment ago by this run\)$/m)
    assert.match(first, /^The origin saw 1 request in this run\.$/m)
    assert.ok(existsSync(join(dir, 'demo_cache.sqlite')), 'the file is kept')
  })

  it('the second run, a new process, is served from the file the first one wrote', () => {
    assert.match(second, /^demo_cache\.sqlite holds 1 response, written by an earlier run\.$/m)
    assert.match(second, /^1\. 200 in [\d.]+ ms: served from the cache file written by the previous run \(stored \d+ s ago\)/m)
    assert.match(second, /^The origin saw 0 requests in this run\.$/m)
    const body = (run: string) => run.match(/^ {3}body: (.*)$/m)?.[1]
    assert.equal(body(second), body(first), "the first run's response, servedAt included")
  })

  it('ends with a CLI command that inspects the file', async () => {
    const command = second.match(/^ {2}npx tsx (\S+) (stats --db demo_cache\.sqlite)$/m)
    assert.ok(command?.[1] && command[2], second)
    const stats = await node([command[1], ...command[2].split(' ')], dir)
    assert.match(stats, /^Responses +1 \(1 fresh, 0 expired\)$/m)
  })
})
