import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { NODE_FLOOR, supportsNode } from '../../lib/install/node-version.js'

const root = join(import.meta.dirname, '..', '..')
/** The machine's own Node.js, older than the floor where it is installed (Node 20 here). */
const SYSTEM_NODE = '/usr/bin/node'

describe('the supported Node.js versions', () => {
  it("the floor checked on import is package.json's engines.node", () => {
    const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
    assert.equal(engines.node, `>=${NODE_FLOOR}`)
  })

  it('compares versions part by part', () => {
    assert.equal(supportsNode('22.19.0', '22.19.0'), true)
    assert.equal(supportsNode('22.20.1', '22.19.0'), true)
    assert.equal(supportsNode('24.0.0', '22.19.0'), true)
    assert.equal(supportsNode('22.18.9', '22.19.0'), false)
    assert.equal(supportsNode('20.20.2', '22.19.0'), false)
    assert.equal(supportsNode('22.9.0', '22.19.0'), false, 'numbers, not strings')
  })

  const old = existsSync(SYSTEM_NODE)
    ? spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()
    : ''
  it('an older Node.js importing the package gets UnsupportedNodeError, not a crash in better-sqlite3', {
    skip: old !== '' && !supportsNode(old) ? false : `no Node.js older than ${NODE_FLOOR} at ${SYSTEM_NODE}`,
  }, () => {
    // Importing alone does not load better-sqlite3's addon; making a SQLite cache does (and crashed).
    const script = `
      const { createCachedFetch } = await import(${JSON.stringify(join(root, 'lib', 'index.ts'))})
      createCachedFetch({ cacheName: ':memory:' })`
    const child = spawnSync(SYSTEM_NODE, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(child.signal, null, `not killed by a signal (stderr: ${child.stderr})`)
    assert.equal(child.status, 1)
    assert.match(child.stderr, /UnsupportedNodeError.*fetch-http-cache needs Node\.js 22\.19\.0 or newer; this is Node\.js 20\./s)
  })
})
