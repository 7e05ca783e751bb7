/**
 * What the benchmark origin (`origin.ts`) reports, and how a job reads and resets it. Requests go
 * through `node:http`, which fetch-http-cache does not patch, so checking never touches a cache.
 */
import { request } from 'node:http'

/** What the origin has served since the last reset. */
export interface OriginCounts {
  requests: number
  hit: number
  miss: number
  /** `/etag/*` answered in full (200) and with 304. */
  etagFull: number
  etagNotModified: number
  big: number
  other: number
}

/** The body size of the small routes. */
export const SMALL_BODY = 1024
/** The body size of `/big`. */
export const BIG_BODY = 1024 * 1024

/** The origin's counts since the last reset. */
export async function originCounts(origin: string): Promise<OriginCounts> {
  return JSON.parse(await get(`${origin}/stats`)) as OriginCounts
}

/** Zeroes the origin's counts. */
export async function resetOrigin(origin: string): Promise<void> {
  await get(`${origin}/reset`)
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)))
    req.on('error', reject)
    req.end()
  })
}
