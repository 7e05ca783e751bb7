/**
 * A process that uses a SQLite cache file it may not be allowed to write (spec/reliability/
 * broken-store.test.ts runs it as an unprivileged user, since root ignores file modes). It fetches
 * each path twice and reports what callers saw, what reached onError, and the process warnings.
 */
import { pathToFileURL } from 'node:url'
import { createCachedFetch } from '../../../lib/index.js'
import { workerReady, workerResult } from '../../helpers/children.js'

export interface CacheUserConfig {
  path: string
  origin: string
  paths: string[]
  /** Leave onError unset, to see the default (process warnings). */
  defaultOnError?: boolean
}

export interface Seen {
  path: string
  status: number
  body: string
  hit: boolean
}

export interface CacheUserResult {
  seen: Seen[]
  failures: string[]
  reported: { name: string; code: string; cause: string | undefined; message: string }[]
  warnings: { name: string; code: string | undefined; message: string }[]
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as CacheUserConfig
  const reported: CacheUserResult['reported'] = []
  const warnings: CacheUserResult['warnings'] = []
  process.on('warning', (warning) => {
    warnings.push({ name: warning.name, code: (warning as { code?: string }).code, message: warning.message })
  })
  const cachedFetch = createCachedFetch({
    cacheName: config.path,
    ...(config.defaultOnError
      ? {}
      : {
          onError: (error: Error) =>
            reported.push({
              name: error.name,
              code: String((error as { code?: unknown }).code),
              cause: (error.cause as { code?: string } | undefined)?.code,
              message: error.message,
            }),
        }),
  })
  await workerReady()
  const seen: Seen[] = []
  const failures: string[] = []
  for (const path of [...config.paths, ...config.paths]) {
    try {
      const response = await cachedFetch(config.origin + path)
      seen.push({
        path,
        status: response.status,
        body: await response.text(),
        hit: response.headers.get('cache-status')?.includes('; hit') ?? false,
      })
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`)
    }
  }
  await cachedFetch.cache.close()
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  const result: CacheUserResult = { seen, failures, reported, warnings }
  workerResult(result)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
