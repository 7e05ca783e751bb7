/**
 * One of several processes using one SQLite cache file through the public API: a cached fetch and
 * an undici Agent composed with cacheInterceptor(), against a loopback origin the parent runs
 * (spec/reliability/processes.test.ts). Reports every error a caller saw and every onError call.
 */
import { pathToFileURL } from 'node:url'
import { Agent, request } from 'undici'
import { cacheInterceptor, createCachedFetch } from '../../../lib/index.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { Prng } from '../../helpers/prng.js'

export interface FetchWorkerConfig {
  path: string
  origin: string
  requests: number
  paths: number
  seed: number
  maxSize?: number
}

export interface FetchWorkerResult {
  /** Errors thrown to a caller, and wrong answers. */
  failures: string[]
  /** What reached onError (the test expects none: no "database is locked"). */
  reported: string[]
  fromCache: number
  requests: number
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as FetchWorkerConfig
  const reported: string[] = []
  const options = {
    backend: 'sqlite' as const,
    cacheName: config.path,
    onError: (error: Error) => reported.push(error.message),
    ...(config.maxSize !== undefined ? { maxSize: config.maxSize } : {}),
  }
  const cachedFetch = createCachedFetch(options)
  const agent = new Agent().compose(cacheInterceptor(options))
  const random = new Prng(config.seed)
  const failures: string[] = []
  let fromCache = 0

  await workerReady()
  for (let i = 0; i < config.requests; i++) {
    const path = `/p/${random.int(config.paths)}`
    const url = `${config.origin}${path}`
    const roll = random.float()
    try {
      let text: string
      let status: number
      if (roll < 0.2) {
        const response = await request(url, { dispatcher: agent })
        status = response.statusCode
        text = await response.body.text()
        if (String(response.headers['cache-status']).includes('hit')) fromCache++
      } else {
        const init: RequestInit & { cache?: 'reload' } =
          roll < 0.3 ? { method: 'POST', body: 'x' } : roll < 0.4 ? { cache: 'reload' } : {}
        const response = await cachedFetch(url, init)
        status = response.status
        text = await response.text()
        if (response.headers.get('cache-status')?.includes('hit')) fromCache++
      }
      if (status !== 200 || text !== `hello ${path}`) failures.push(`${url}: ${status} ${JSON.stringify(text.slice(0, 60))}`)
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`)
    }
  }
  await cachedFetch.cache.close()
  await agent.close()
  const result: FetchWorkerResult = { failures, reported, fromCache, requests: config.requests }
  workerResult(result)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
