/**
 * The node:http front against plain `http.get` and against a fetch-front hit, in one process and one
 * run (issue 20): a node:http hit, a node:http miss (a never-seen URL each time, stored), plain
 * `http.get` with no cache (the same keep-alive agent), a fetch-front hit, and the floor of Node's own
 * client: `http.get` answered by a canned in-memory socket (no cache, no server). Rounds alternate the
 * order; the median round is reported. Run: `npx tsx bench/node-http.ts [--quick] [--rounds N]`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Duplex } from 'node:stream'
import { pkg } from './package.js'
import { FULL_BOUNDS, measure, QUICK_BOUNDS } from './timing.js'

const { installCache, uninstallCache } = pkg

const quick = process.argv.includes('--quick')
const roundsAt = process.argv.indexOf('--rounds')
const rounds = roundsAt === -1 ? 3 : Math.max(1, Number(process.argv[roundsAt + 1]) || 3)
const bounds = quick ? QUICK_BOUNDS : FULL_BOUNDS
const BODY = 'x'.repeat(1024)

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) }).end(BODY)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const agent = new http.Agent({ keepAlive: true })
const plainGet = http.get

function get(send: typeof http.get, url: string, via: http.Agent = agent): Promise<number> {
  return new Promise((resolve, reject) => {
    send(url, { agent: via }, (res) => {
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength
      })
      res.on('end', () => resolve(size))
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** A socket that answers the first request written to it with `answer`, then ends: no network, no parsing on the other side. */
class CannedSocket extends Duplex {
  #answered = false
  constructor(readonly answer: Buffer) {
    super()
  }
  override _read(): void {}
  override _write(_chunk: unknown, _encoding: unknown, done: () => void): void {
    if (!this.#answered) {
      this.#answered = true
      queueMicrotask(() => {
        this.push(this.answer)
        this.push(null)
      })
    }
    done()
  }
}
const canned = Buffer.from(
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${BODY.length}\r\nconnection: close\r\n\r\n${BODY}`,
)
const cannedAgent = new http.Agent()
Object.assign(cannedAgent, { createConnection: () => new CannedSocket(canned) })

installCache({ backend: 'memory', nodeHttp: true })
let miss = 0
const jobs: Record<string, () => Promise<unknown>> = {
  'node:http hit': () => get(http.get, `${base}/hit`),
  'fetch hit': async () => (await fetch(`${base}/hit-fetch`)).arrayBuffer(),
  'node:http miss (stored)': () => get(http.get, `${base}/miss/${++miss}`),
  'plain http.get (no cache)': () => get(plainGet, `${base}/plain`),
  "http.get on a canned socket (Node's client alone)": () => get(plainGet, `${base}/canned`, cannedAgent),
}
const results = new Map<string, number[]>()
for (let round = 0; round < rounds; round++) {
  const names = Object.keys(jobs)
  if (round % 2 === 1) names.reverse()
  for (const name of names) {
    const timing = await measure(jobs[name] as () => Promise<unknown>, bounds)
    results.set(name, [...(results.get(name) ?? []), timing.us])
  }
}
uninstallCache()
agent.destroy()
server.close()

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const fetchHit = median(results.get('fetch hit') ?? [])
console.log(`node ${process.version}, ${rounds} round(s), median µs per request (1 KiB body, memory store)\n`)
console.log('| job | µs | × fetch hit |\n| --- | --- | --- |')
for (const [name, values] of results) {
  const us = median(values)
  console.log(`| ${name} | ${us.toFixed(1)} | ${(us / fetchHit).toFixed(2)} |`)
}
