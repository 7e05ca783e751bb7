/**
 * How the memory store should keep its entries, measured (issue 13). Three representations of the
 * same 1 KiB responses, each in a fresh process with `--expose-gc`:
 *
 * - `packed`: one byte array per entry (4-byte length, metadata JSON, body), decoded on a hit, the
 *   latest 256 decoded entries kept: what MemoryStore did before.
 * - `frozen`: decoded, immutable entries (lib/stores/frozen-entry.ts): what MemoryStore keeps now.
 * - `map`: a bare `Map` of key → body bytes, the least an entry can cost (no metadata at all).
 *
 * For each: heap + external bytes per entry once stored, and ns per `get()` over every URL in a
 * spread order and on one hot URL (medians of samples). Store level only: the request path around a
 * hit is in the main bench (`hit`, `hit-10k`).
 *
 *   npx tsx bench/memory-store.ts [--entries 10000] [--quick]
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { pack, unpack } from '../lib/entry/codec.js'
import { type CacheEntry, ENTRY_VERSION } from '../lib/entry/entry.js'
import { MemoryStore } from '../lib/stores/memory.js'
import { RecentEntries } from '../lib/stores/recent-entries.js'

const REPRESENTATIONS = ['packed', 'frozen', 'map'] as const
type Representation = (typeof REPRESENTATIONS)[number]
const BODY = 1024
const STRIDE = 7_919

interface Candidate {
  set(key: string, entry: CacheEntry): void
  get(key: string): unknown
}

interface Result {
  representation: Representation
  entries: number
  bytesPerEntry: number
  heapPerEntry: number
  externalPerEntry: number
  spreadNs: number
  hotNs: number
}

/** MemoryStore before issue 13, reduced to what a hit and a write do. */
class PackedStore implements Candidate {
  readonly #lru = new LRUCache<string, Uint8Array>({
    max: 1_000_000,
    maxSize: 4 * 1024 ** 3,
    sizeCalculation: (packed, key) => packed.byteLength + key.length + 256,
  })
  readonly #recent = new RecentEntries(256, 64 * 1024 * 1024, () => 0) // one process, no other writer

  set(key: string, entry: CacheEntry): void {
    this.#recent.delete(key)
    this.#lru.set(key, pack(entry))
  }

  get(key: string): CacheEntry | undefined {
    const packed = this.#lru.get(key)
    if (packed === undefined) return undefined
    const recent = this.#recent.get(key)
    if (recent) return recent.entry
    const entry = unpack(packed)
    if (entry) this.#recent.set(key, entry, 0)
    return entry
  }
}

class BareMap implements Candidate {
  readonly #map = new Map<string, Uint8Array>()
  set(key: string, entry: CacheEntry): void {
    this.#map.set(key, new Uint8Array(entry.body))
  }
  get(key: string): Uint8Array | undefined {
    return this.#map.get(key)
  }
}

function candidate(representation: Representation): Candidate {
  switch (representation) {
    case 'packed':
      return new PackedStore()
    case 'frozen':
      return new MemoryStore({ maxEntries: 1_000_000, maxSize: 4 * 1024 ** 3 })
    case 'map':
      return new BareMap()
    default:
      return representation satisfies never
  }
}

/** A stored response as the engine writes it for `GET /hit/<i>` of the bench origin (strings made per entry, as real ones are). */
function entry(i: number): CacheEntry {
  const url = `http://127.0.0.1:40000/hit/${i}`
  const now = Date.UTC(2026, 10, 29, 12) + i
  const date = new Date(now).toUTCString()
  return {
    v: ENTRY_VERSION,
    key: createHash('sha256').update(url).digest('hex'),
    kind: 'response',
    method: 'GET',
    url,
    responseUrl: url,
    requestHeaders: {},
    bodyDigest: '',
    status: 200,
    statusText: 'OK',
    headers: [
      ['cache-control', 'max-age=86400'],
      ['content-length', String(BODY)],
      ['content-type', 'text/plain; charset=utf-8'],
      ['date', date],
      ['etag', `"h${i}"`],
      ['last-modified', date],
    ].map(([name, value]) => [`${name}`.toLowerCase(), `${value}`]) as [string, string][],
    redirected: false,
    body: new Uint8Array(BODY).fill(i % 251),
    encoding: 'identity',
    requestTime: now - 3,
    responseTime: now,
    createdAt: now,
    expires: null,
    initialAge: 0,
  }
}

function settledMemory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 6; i++) gc()
  return process.memoryUsage()
}

/** Median ns per `get()` over `keys` in the given order, in samples of `perSample` gets. */
function timeGets(store: Candidate, keys: readonly string[], samples: number, perSample: number): number {
  const times: number[] = []
  let n = 0
  for (let s = 0; s < samples; s++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < perSample; i++) {
      if (store.get(keys[n++ % keys.length] as string) === undefined) throw new Error('a stored key missed')
    }
    times.push(Number(process.hrtime.bigint() - started) / perSample)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

function child(representation: Representation, entries: number, quick: boolean): Result {
  const keys = Array.from({ length: entries }, (_, i) => entry(i).key)
  const store = candidate(representation)
  const before = settledMemory()
  for (let i = 0; i < entries; i++) {
    const made = entry(i)
    store.set(made.key, made)
  }
  const after = settledMemory()
  const spread = Array.from({ length: entries }, (_, i) => keys[(i * STRIDE) % entries] as string)
  const samples = quick ? 21 : 101
  // Warm up (and for `packed`, leave the decoded cache as a steady stream of hits leaves it).
  timeGets(store, spread, 5, entries)
  const spreadNs = timeGets(store, spread, samples, entries)
  const hotNs = timeGets(store, [keys[0] as string], samples, 10_000)
  const heap = after.heapUsed - before.heapUsed
  const external = after.external - before.external
  return {
    representation,
    entries,
    bytesPerEntry: (heap + external) / entries,
    heapPerEntry: heap / entries,
    externalPerEntry: external / entries,
    spreadNs,
    hotNs,
  }
}

function main(): void {
  const args = process.argv.slice(2)
  const option = (name: string) => {
    const at = args.indexOf(name)
    return at === -1 ? undefined : args[at + 1]
  }
  const quick = args.includes('--quick')
  const entries = Number(option('--entries') ?? (quick ? 2_000 : 10_000))
  const only = option('--child') as Representation | undefined
  if (only) {
    process.stdout.write(`${JSON.stringify(child(only, entries, quick))}\n`)
    return
  }
  const results: Result[] = []
  for (const representation of REPRESENTATIONS) {
    const run = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        representation,
        '--entries',
        String(entries),
        ...(quick ? ['--quick'] : []),
      ],
      { encoding: 'utf8', timeout: 300_000 },
    )
    if (run.status !== 0) throw new Error(`${representation} failed:\n${run.stderr}`)
    results.push(JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as Result)
  }
  const map = results.find((r) => r.representation === 'map') as Result
  console.log(`Node ${process.version}, ${entries.toLocaleString('en')} entries of ${BODY} B${quick ? ' (quick)' : ''}\n`)
  console.log(
    '| representation | bytes per entry (heap + external) | heap | external | × bare Map | ns per get, spread over every URL | ns per get, one hot URL |',
  )
  console.log('| --- | --: | --: | --: | --: | --: | --: |')
  for (const r of results) {
    console.log(
      `| ${r.representation} | ${r.bytesPerEntry.toFixed(0)} | ${r.heapPerEntry.toFixed(0)} | ${r.externalPerEntry.toFixed(0)} | ` +
        `${(r.bytesPerEntry / map.bytesPerEntry).toFixed(2)}× | ${r.spreadNs.toFixed(0)} | ${r.hotNs.toFixed(0)} |`,
    )
  }
}

main()
