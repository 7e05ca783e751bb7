/**
 * Pushes many distinct URLs through a MemoryStore with `maxSize`, part through cached fetch against
 * a loopback origin (the real path: undici bodies, recorded and stored), the rest straight through
 * the engine for speed, and samples memory after forced collections (spec/reliability/memory.test.ts;
 * run with --expose-gc).
 */
import { pathToFileURL } from 'node:url'
import { Engine, type KeyedRequest } from '../../../lib/engine/engine.js'
import { ENTRY_VERSION } from '../../../lib/entry/entry.js'
import { createCachedFetch } from '../../../lib/index.js'
import { LiveSettings } from '../../../lib/options/live.js'
import { MemoryStore } from '../../../lib/stores/memory.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { storedCount } from '../../helpers/store-reads.js'

export interface MemoryWorkerConfig {
  origin: string
  maxSize: number
  /** Through cached fetch and the origin. */
  fetchUrls: number
  /** Through Engine.save() (keys, redaction, Vary): the fronts' path without the network. */
  engineUrls: number
  /** Straight into the store, for volume. */
  storeUrls: number
  bodySize: number
}

export interface MemorySample {
  urls: number
  /** heapUsed + arrayBuffers, bytes above the baseline. */
  growth: number
  count: number
  size: number
}

export interface MemoryWorkerResult {
  samples: MemorySample[]
  /** Growth once the store is cleared: memory the cache holds outside its store. */
  afterClear: number
  inFlight: number
  refreshing: number
}

const collect = globalThis.gc as (() => void) | undefined

function used(): number {
  collect?.()
  collect?.()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as MemoryWorkerConfig
  if (!collect) throw new Error('run with --expose-gc')
  // maxEntries far above what fits in maxSize, so maxSize is the bound that acts. (lru-cache preallocates
  // per slot: a huge maxEntries costs memory, and time in every collection.)
  const store = new MemoryStore({ maxSize: config.maxSize, maxEntries: 200_000 })
  const cachedFetch = createCachedFetch({ backend: store })
  const engine = new Engine(store, new LiveSettings({}))
  const samples: MemorySample[] = []
  await workerReady()
  // Warm up the code paths (and undici's connection) before the baseline, so it is not counted.
  await (await cachedFetch(`${config.origin}/warmup`)).arrayBuffer()
  store.clear()
  const baseline = used()
  const sample = async (urls: number) => {
    const growth = used() - baseline // before counting, which allocates
    samples.push({ urls, growth, count: await storedCount(store), size: store.size() })
  }

  const total = config.fetchUrls + config.engineUrls
  const every = Math.ceil((total + config.storeUrls) / 20)
  for (let i = 0; i < config.fetchUrls; i++) {
    await (await cachedFetch(`${config.origin}/m/${i}?pad=${'p'.repeat(i % 7)}`)).arrayBuffer()
    if ((i + 1) % every === 0) await sample(i + 1)
  }
  const headers = new Headers({ accept: '*/*' })
  for (let i = config.fetchUrls; i < total; i++) {
    const url = `${config.origin}/e/${i}`
    const keyed: KeyedRequest = { method: 'GET', url, headers, bodyDigest: '', baseKey: engine.keyFor('GET', url, headers, '') }
    await engine.save(keyed, {
      responseUrl: url,
      status: 200,
      statusText: 'OK',
      headers: [
        ['content-type', 'text/plain'],
        ['content-length', String(config.bodySize)],
      ],
      redirected: false,
      body: new Uint8Array(config.bodySize).fill(i & 0xff),
      encoding: 'identity',
      requestTime: 0,
      responseTime: 0,
      createdAt: 0,
      expires: null,
    })
    if ((i + 1) % every === 0) await sample(i + 1)
  }
  const body = () => new Uint8Array(config.bodySize).fill(7)
  for (let i = total; i < total + config.storeUrls; i++) {
    const url = `${config.origin}/s/${i}`
    const key = engine.keyFor('GET', url, headers, '')
    store.set(key, {
      v: ENTRY_VERSION,
      key,
      kind: 'response',
      method: 'GET',
      url,
      responseUrl: url,
      requestHeaders: { accept: '*/*' },
      bodyDigest: '',
      status: 200,
      statusText: 'OK',
      headers: [['content-type', 'text/plain']],
      redirected: false,
      body: body(),
      encoding: 'identity',
      requestTime: 0,
      responseTime: 0,
      createdAt: 0,
      expires: null,
      initialAge: 0,
    })
    if ((i + 1) % every === 0) await sample(i + 1)
  }
  await sample(total + config.storeUrls)
  // With the store emptied, what is left is what the cache holds outside it: it should be nothing.
  store.clear()
  const afterClear = used() - baseline
  workerResult({
    samples,
    afterClear,
    inFlight: engine.inFlight.counts.flights + engine.inFlight.counts.recordings,
    refreshing: engine.inFlight.counts.refreshes,
  } satisfies MemoryWorkerResult)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
