import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { StoreError } from '../errors.js'

/**
 * `Set-Cookie` (and the obsolete `Set-Cookie2`) values at rest: the private cache must replay them
 * (README, "Standards"), so they are stored, but only sealed with AES-256-GCM under a key derived from
 * the store's secret. Anyone who reads the file or the Redis values without that secret learns
 * nothing of them and cannot forge one that opens (README, "Reliability and security", threat model).
 */

const SEALED_FIELDS: ReadonlySet<string> = new Set(['set-cookie', 'set-cookie2'])
/** Marks a sealed value. A valid Set-Cookie never starts so: `:` cannot be in a cookie name (RFC 6265 §4.1.1). */
const PREFIX = 'aes-256-gcm:'
const IV_BYTES = 12
const TAG_BYTES = 16

let derivedFor: string | undefined
let derived: Buffer = Buffer.alloc(0)

/** The AES-256 key for a secret: HMAC-SHA-256 under a label of its own, so it is the key of nothing else. */
function keyOf(secret: string): Buffer {
  if (derivedFor !== secret) {
    derived = createHmac('sha256', secret).update('fetch-http-cache set-cookie at rest').digest()
    derivedFor = secret
  }
  return derived
}

/** The header pairs with every `Set-Cookie` / `Set-Cookie2` value sealed (the same array when there is none to seal). */
export function sealCookies(headers: [string, string][], secret: string): [string, string][] {
  if (!headers.some(([name, value]) => SEALED_FIELDS.has(name) && !value.startsWith(PREFIX))) return headers
  return headers.map(([name, value]): [string, string] => {
    if (!SEALED_FIELDS.has(name) || value.startsWith(PREFIX)) return [name, value]
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv)
    const sealed = Buffer.concat([iv, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return [name, PREFIX + sealed.toString('base64')]
  })
}

/** Whether a sealed value is among the pairs: a plain loop, since every hit asks. */
function hasSealed(headers: readonly (readonly [string, string])[]): boolean {
  for (const [name, value] of headers) if (SEALED_FIELDS.has(name) && value.startsWith(PREFIX)) return true
  return false
}

/**
 * The header pairs with sealed values opened, to serve them. Throws a `StoreError` when one does not
 * open (another secret, or changed bytes): the entry cannot be served as it was received.
 */
export function openCookies(headers: [string, string][], secret: string): [string, string][] {
  if (!hasSealed(headers)) return headers
  return headers.map(([name, value]): [string, string] => {
    if (!SEALED_FIELDS.has(name) || !value.startsWith(PREFIX)) return [name, value]
    const sealed = Buffer.from(value.slice(PREFIX.length), 'base64')
    try {
      const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), sealed.subarray(0, IV_BYTES))
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
      const opened = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()])
      return [name, opened.toString('utf8')]
    } catch (error) {
      throw new StoreError(`fetch-http-cache: a stored ${name} value does not open with this cache's secret`, { cause: error })
    }
  })
}
