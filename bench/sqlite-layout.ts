/**
 * Where a SQLite cache file's bytes go (issue 24): stores 10,000 responses of 1 KiB through the
 * patched global fetch from a loopback origin shaped like the bench's, closes the cache, and prints
 * the file's size per entry and SQLite's `dbstat` per table and index (pages, payload, unused room).
 *
 *   npx tsx bench/sqlite-layout.ts [--entries 10000]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { getCache, installCache, uninstallCache } from '../lib/index.js'

const { values } = parseArgs({ options: { entries: { type: 'string', default: '10000' } } })
const entries = Number(values.entries)
const body = Buffer.alloc(1024, 'x')
const server = createServer((req, res) => {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.byteLength,
    'cache-control': 'max-age=86400',
    etag: `"${req.url}"`,
    'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
  })
  res.end(body)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const dir = await mkdtemp(join(tmpdir(), 'fhc-layout-'))
const path = join(dir, 'cache.sqlite')
try {
  installCache({ backend: 'sqlite', cacheName: path })
  for (let i = 0; i < entries; i += 16) {
    const batch = Array.from({ length: Math.min(16, entries - i) }, (_, j) => fetch(`${origin}/hit/${i + j}`))
    await Promise.all(batch.map(async (response) => (await response).arrayBuffer()))
  }
  await getCache()?.flush()
  uninstallCache()
  await new Promise((resolve) => setTimeout(resolve, 200)) // the store closes behind uninstallCache()
  const size = (await stat(path)).size
  process.stdout.write(
    `${entries.toLocaleString('en-US')} entries: ${size.toLocaleString('en-US')} bytes, ${Math.round(size / entries)} per entry\n\n`,
  )
  process.stdout.write('| table or index | pages | bytes per entry | payload | unused |\n| --- | --: | --: | --: | --: |\n')
  const db = new Database(path, { readonly: true })
  const rows = db
    .prepare<[], { name: string; pages: number; payload: number; unused: number; bytes: number }>(
      'SELECT name, COUNT(*) AS pages, SUM(payload) AS payload, SUM(unused) AS unused, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC',
    )
    .all()
  db.close()
  const per = (n: number) => Math.round(n / entries)
  for (const r of rows)
    process.stdout.write(`| ${r.name} | ${r.pages} | ${per(r.bytes)} | ${per(r.payload)} | ${per(r.unused)} |\n`)
} finally {
  server.close()
  await rm(dir, { recursive: true, force: true })
}
