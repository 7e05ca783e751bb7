import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { cacheInfo } from '../../lib/fronts/response.js'
import { type CachedFetch, createCachedFetch } from '../../lib/install/session.js'
import type { CacheOptions } from '../../lib/options/settings.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * The RFC 9111 specs' harness: a counting loopback origin whose answers each test scripts, and a
 * `createCachedFetch({ backend: 'memory', cacheControl: true })` in front of it.
 */

/** A scripted origin answer. Header values given as arrays go out as several field lines. */
export interface Answer {
  status?: number
  headers?: Record<string, string | string[]>
  body?: string
}

export interface Rig {
  origin: Origin
  fetch: CachedFetch
  /** The absolute URL of a path on the origin. */
  url(path: string): string
  /**
   * Scripts the answers for a path, one per request in order (the last one repeats). A function
   * answer sees the request, e.g. to answer a conditional request with 304.
   */
  answer(path: string, ...answers: (Answer | ((req: IncomingMessage) => Answer))[]): void
  close(): Promise<void>
}

export async function rig(options: CacheOptions = {}): Promise<Rig> {
  const origin = await startOrigin()
  const fetch = createCachedFetch({ backend: 'memory', cacheControl: true, ...options })
  return {
    origin,
    fetch,
    url: (path) => `${origin.url}${path}`,
    answer: (path, ...answers) => script(origin, path, ...answers),
    async close() {
      await fetch.cache.close()
      await origin.close()
    },
  }
}

/** Scripts an origin's answers for a path, one per request in order (the last one repeats). */
export function script(origin: Origin, path: string, ...answers: (Answer | ((req: IncomingMessage) => Answer))[]): void {
  let i = 0
  origin.route(path, (req: IncomingMessage, res: ServerResponse) => {
    const next = answers[Math.min(i++, answers.length - 1)]
    const answer = typeof next === 'function' ? next(req) : (next ?? {})
    res.statusCode = answer.status ?? 200
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value)
    const noBody = req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304
    res.end(noBody ? undefined : (answer.body ?? `body ${i} of ${path}`))
  })
}

/** The parameters of our member of a `Cache-Status` field value (RFC 9211 §2), as a map. */
export function cacheStatusParams(value: string | string[] | null | undefined): Map<string, string | true> {
  const text = Array.isArray(value) ? value.join(', ') : (value ?? '')
  const [name, ...params] = text.split(';').map((s) => s.trim())
  assert.equal(name, 'fetch-cache', `Cache-Status: ${text}`)
  return new Map<string, string | true>(
    params.map((p): [string, string | true] => (p.includes('=') ? (p.split('=', 2) as [string, string]) : [p, true])),
  )
}

/** An IMF-fixdate `seconds` from now (negative: in the past). */
export function httpDate(seconds = 0): string {
  return new Date(Date.now() + seconds * 1000).toUTCString()
}

/** Whether a response was served from the cache (also after a 304 revalidation). */
export function fromCache(response: Response): boolean {
  return cacheInfo(response)?.fromCache === true
}

/** Fetches and reads the body, so that what is stored is stored. */
export async function get(r: Rig, path: string, init?: RequestInit): Promise<{ response: Response; text: string }> {
  const response = await r.fetch(r.url(path), init)
  const text = await response.text()
  return { response, text }
}

/** Real waiting, for the few tests that need a stored response to age (bounded: at most 3 s). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 3000)))
}
