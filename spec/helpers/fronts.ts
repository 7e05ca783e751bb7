import { Agent, request } from 'undici'
import { type CacheOptions, cacheInterceptor, createCachedFetch } from '../../lib/index.js'

/** A response as a test reads it, whichever front produced it. */
export interface FrontResponse {
  status: number
  header(name: string): string | undefined
  /** Served from the cache (a `hit` in `Cache-Status`). */
  hit: boolean
  body: AsyncIterable<Uint8Array>
  /** Stops reading (fetch: `body.cancel()`; undici: `body.destroy()`). */
  cancel(): Promise<void>
}

/** One way into the cache: the fetch front, or the dispatcher front under `undici.request()`. */
export interface Front {
  name: string
  get(url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }): Promise<FrontResponse>
  close(): Promise<void>
}

/** `createCachedFetch(options)`. */
export function fetchFront(options: CacheOptions): Front {
  const cachedFetch = createCachedFetch(options)
  return {
    name: 'cached fetch',
    async get(url, init = {}) {
      const response = await cachedFetch(url, init)
      const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
      return {
        status: response.status,
        header: (name) => response.headers.get(name) ?? undefined,
        hit: response.headers.get('cache-status')?.includes('; hit') ?? false,
        body: body as unknown as AsyncIterable<Uint8Array>,
        cancel: () => body.cancel(),
      }
    },
    close: () => cachedFetch.cache.close(),
  }
}

/** `undici.request()` through an Agent composed with `cacheInterceptor(options)`. */
export function undiciFront(options: CacheOptions): Front {
  const agent = new Agent().compose(cacheInterceptor(options))
  return {
    name: 'undici.request + cacheInterceptor',
    async get(url, init = {}) {
      const response = await request(url, { dispatcher: agent, ...init })
      const header = (name: string) => {
        const value = response.headers[name]
        return Array.isArray(value) ? value.join(', ') : value
      }
      return {
        status: response.statusCode,
        header,
        hit: header('cache-status')?.includes('; hit') ?? false,
        body: response.body,
        // undici's body emits RequestAbortedError when destroyed unread, with or without the cache.
        cancel: async () => void response.body.on('error', () => {}).destroy(),
      }
    },
    close: () => agent.close(),
  }
}

/** Reads a body to the end. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}
