/**
 * One of two processes sharing a Redis cache through `installCache()` and the global fetch
 * (spec/stores/redis-cache.test.ts): fetches each request in turn and reports what it saw.
 */
import { pathToFileURL } from 'node:url'
import { capabilities } from '../../../lib/entry/store.js'
import { getCache, installCache, uninstallCache } from '../../../lib/index.js'
import { cacheInfo } from '../../../lib/observe/cache-info.js'
import { workerReady, workerResult } from '../../helpers/children.js'

export interface RedisCacheWorkerConfig {
  redis: string
  prefix: string
  requests: { url: string; authorization?: string }[]
  /** How many responses the cache holds once this worker's writes have landed. */
  expectStored: number
}

export interface RedisCacheWorkerResult {
  answers: { status: number; text: string; fromCache: boolean }[]
  reported: string[]
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as RedisCacheWorkerConfig
  const reported: string[] = []
  installCache({
    backend: 'redis',
    redis: { url: config.redis, prefix: config.prefix, commandTimeout: 10_000, connectTimeout: 30_000 },
    expireAfter: 3600,
    onError: (error) => reported.push(error.message),
  })
  const cache = getCache()
  if (cache) await capabilities(cache.store).ready?.ready()
  await workerReady()
  const answers: RedisCacheWorkerResult['answers'] = []
  for (const { url, authorization } of config.requests) {
    const response = await fetch(url, authorization ? { headers: { authorization } } : {})
    answers.push({ status: response.status, text: await response.text(), fromCache: cacheInfo(response)?.fromCache === true })
  }
  // The store write of a miss leaves the request path: wait (bounded) until it has landed.
  const deadline = Date.now() + 20_000
  while (((await getCache()?.count()) ?? 0) < config.expectStored && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  uninstallCache()
  workerResult({ answers, reported } satisfies RedisCacheWorkerResult)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
