/**
 * Fetches large bodies through plain fetch / undici or through the cache, in a child process of its
 * own, and reports how far memory rose above the baseline at its peak (spec/reliability/bodies.test.ts).
 */
import { pathToFileURL } from 'node:url'
import { Agent, request } from 'undici'
import { cacheInterceptor, createCachedFetch } from '../../../lib/index.js'
import { workerReady, workerResult } from '../../helpers/children.js'

export interface BodiesWorkerConfig {
  origin: string
  cacheName: string
  front: 'fetch' | 'dispatcher'
  cached: boolean
  maxEntrySize: number
  /** Paths fetched concurrently and read to the end. */
  read: string[]
  /** Paths fetched alongside and never read (their bodies are kept). */
  held: string[]
}

export interface BodiesWorkerResult {
  /** Peak of heapUsed + arrayBuffers above the baseline, bytes. */
  peak: number
  /** How far the resident set rose above its baseline at its peak (what the machine gives the process). */
  peakRss: number
  /** How each held body ended when read at last: 'ok', or the error's name. */
  held: string[]
  /** The same paths again, afterwards: served from the cache? */
  hitsAfter: boolean[]
}

const collect = globalThis.gc as () => void

function used(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as BodiesWorkerConfig
  const options = { cacheName: config.cacheName, maxEntrySize: config.maxEntrySize, expireAfter: 600 }
  const cachedFetch = config.cached && config.front === 'fetch' ? createCachedFetch(options) : undefined
  const agent =
    config.front === 'dispatcher' ? (config.cached ? new Agent().compose(cacheInterceptor(options)) : new Agent()) : undefined
  /** One request; `consume` reads (and drops) the body, or keeps it unread until asked. */
  const get = async (path: string): Promise<{ status: string | null; read(): Promise<void> }> => {
    const url = `${config.origin}${path}`
    if (agent) {
      const response = await request(url, { dispatcher: agent })
      return {
        status: (response.headers['cache-status'] as string | undefined) ?? null,
        read: async () => {
          for await (const chunk of response.body) sampleWith(chunk)
        },
      }
    }
    const response = await (cachedFetch ?? fetch)(url)
    return {
      status: response.headers.get('cache-status'),
      read: async () => {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) sampleWith(chunk)
      },
    }
  }
  let peak = 0
  let baseline = 0
  let peakRss = 0
  let baselineRss = 0
  const sampleWith = (_chunk: Uint8Array) => {
    peak = Math.max(peak, used() - baseline)
    peakRss = Math.max(peakRss, process.memoryUsage.rss() - baselineRss)
  }
  await workerReady()
  collect()
  collect()
  baseline = used()
  baselineRss = process.memoryUsage.rss()
  const timer = setInterval(() => sampleWith(new Uint8Array(0)), 2)
  // All at once, so identical requests are coalesced.
  const holding = Promise.all(config.held.map(get))
  await Promise.all(config.read.map(async (path) => (await get(path)).read()))
  const held = await holding
  const heldEnds: string[] = []
  for (const response of held)
    heldEnds.push(
      await response.read().then(
        () => 'ok',
        (error: Error) => error.name,
      ),
    )
  clearInterval(timer)
  const hitsAfter: boolean[] = []
  for (const path of config.read) {
    const again = await get(path)
    hitsAfter.push(again.status?.includes('; hit') ?? false)
    await again.read()
  }
  workerResult({ peak, peakRss, held: heldEnds, hitsAfter } satisfies BodiesWorkerResult)
  await cachedFetch?.cache.close()
  await agent?.close()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
