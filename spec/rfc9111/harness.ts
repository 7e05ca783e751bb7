import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { StoredResponse } from '../../lib/inspect/query.js'
import type { CacheOptions } from '../../lib/options/types.js'
import {
  type CacheFront,
  type FrontInit,
  type FrontKind,
  type FrontResponse,
  ourMember,
  parseCacheStatus,
} from '../helpers/fronts.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * The RFC 9111 specs' harness: a counting loopback origin whose answers each test scripts, and a
 * memory cache with `cacheControl: true` in front of it, reached through one front (fetch or dispatcher).
 */

/** A scripted origin answer. Header values given as arrays go out as several field lines. */
export interface Answer {
  status?: number
  headers?: Record<string, string | string[]>
  body?: string
}

/** The cache's policy clock: the wall clock, plus whatever a test moved it forward by. */
export interface RigClock {
  now(): number
  /** Ages every stored response by `ms` (and makes the next response arrive `ms` later), without waiting. */
  advance(ms: number): void
}

export interface Rig {
  origin: Origin
  /** The cache, through the front under test. */
  front: CacheFront
  clock: RigClock
  /** The absolute URL of a path on the origin. */
  url(path: string): string
  /**
   * Scripts the answers for a path, one per request in order (the last one repeats). A function
   * answer sees the request, e.g. to answer a conditional request with 304.
   */
  answer(path: string, ...answers: (Answer | ((req: IncomingMessage) => Answer))[]): void
  close(): Promise<void>
}

export async function rig(kind: FrontKind, options: CacheOptions = {}): Promise<Rig> {
  const origin = await startOrigin()
  // Ahead of the wall clock by what tests advanced it: `Date` fields the origin sends (httpDate(),
  // node:http's own) keep their meaning, and an entry ages without a sleep.
  let offset = 0
  const clock: RigClock = {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms
    },
  }
  const front = kind.open({ backend: 'memory', cacheControl: true, ...options }, clock.now)
  return {
    origin,
    front,
    clock,
    url: (path) => `${origin.url}${path}`,
    answer: (path, ...answers) => script(origin, path, ...answers),
    async close() {
      await front.close()
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
export function cacheStatusParams(value: string | null | undefined): Map<string, string | true> {
  assert.ok(ourMember(value), `Cache-Status ends with our member: ${value}`)
  return parseCacheStatus(value)
}

/** An IMF-fixdate `seconds` from now (negative: in the past). */
export function httpDate(seconds = 0): string {
  return new Date(Date.now() + seconds * 1000).toUTCString()
}

/** Sends a request through the rig's front and reads the body, so that what is stored is stored. */
export async function get(r: Rig, path: string, init?: FrontInit): Promise<{ response: FrontResponse; text: string }> {
  const response = await r.front.get(r.url(path), init)
  const text = await response.text()
  return { response, text }
}

/** The stored response for a GET of `path` (no Vary), read through the cache's inspection API. */
export async function stored(r: Rig, path: string): Promise<StoredResponse | undefined> {
  for await (const response of r.front.cache.responses()) if (response.url === r.url(path)) return response
  return undefined
}
