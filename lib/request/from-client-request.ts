import type { ClientRequest } from 'node:http'
import { validateRequestOptions } from '../options/settings.js'
import type { CacheRequest } from './cache-request.js'
import { bodyDigest } from './key.js'
import { unresolvedTarget } from './path-as-sent.js'

/**
 * A `node:http` request as the cache sees it, keyed from the connection the caller's agent is asked
 * for (`protocol`, `host`, `port`) and the path as Node will send it (lib/README.md, "Keys from the
 * request as sent").
 */

/**
 * The request header that carries per-request cache options for `node:http` callers (a JSON object
 * of `cacheOptions`). It is read and removed before the request is sent: it never reaches the origin.
 */
export const OPTIONS_HEADER = 'fetch-http-cache-options'

/** Where the caller's agent is asked to connect, as Node passes it to `agent.addRequest()`. */
export interface ConnectTarget {
  host?: string | null | undefined
  port?: number | string | null | undefined
  socketPath?: string | undefined
}

/**
 * The request as the exchange sees it. `body` is the whole body when the caller gave it to `end()`,
 * `undefined` when it has none, and `null` when it streamed one (unkeyable). Throws for a bad
 * options header (the caller's mistake).
 */
export function requestFromClientRequest(
  req: ClientRequest,
  target: ConnectTarget,
  body: string | Uint8Array | undefined | null,
  ignored: ReadonlySet<string>,
): CacheRequest {
  const method = req.method.toUpperCase()
  const headers = new Headers()
  let optionsField: string | undefined
  for (const name of req.getHeaderNames()) {
    const value = req.getHeader(name)
    if (value === undefined) continue
    if (name === OPTIONS_HEADER) optionsField = Array.isArray(value) ? value.join(',') : String(value)
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.append(name, String(value))
  }
  const options = validateRequestOptions(optionsField === undefined ? undefined : parseOptions(optionsField))
  const host = target.host ?? 'localhost'
  const authority = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${target.port ?? ''}`
  const origin = `${req.protocol}//${authority}`
  const path = req.path
  const absolute = absoluteForm(path)
  let url = absolute?.href ?? `${origin}${path}`
  let bypass: string | undefined
  if (target.socketPath) bypass = 'a Unix socket'
  else if (absolute) {
    if (!sameAuthority(absolute, origin)) bypass = 'absolute-form target naming another origin'
  } else if (!path.startsWith('/')) bypass = 'path not starting with /'
  bypass ??= unresolvedTarget(path)
  if (!bypass) {
    try {
      const parsed = absolute ?? new URL(`${origin}${path}`)
      url = parsed.href
      // rfc: a Host field naming another authority changes what the origin answers (RFC 9110 §7.2).
      const field = headers.get('host')
      if (field !== null && field.toLowerCase() !== parsed.host && field.toLowerCase() !== authority.toLowerCase())
        bypass = 'Host header differs from the origin'
    } catch {
      bypass = 'not a URL'
    }
  }
  const digest =
    body === null ? undefined : bodyDigest(body === undefined ? undefined : body, headers.get('content-type'), ignored)
  return { method, url, headers, bodyDigest: digest, mode: undefined, options, signal: undefined, bypass, ownConnection: true }
}

/**
 * An absolute-form request-target (RFC 9112 §3.2.2), as Node writes the path for a request through a
 * forward proxy (its `NODE_USE_ENV_PROXY`): it names the URL itself. `undefined` for any other form.
 */
function absoluteForm(path: string): URL | undefined {
  if (path.startsWith('/') || !/^https?:\/\//i.test(path)) return undefined
  try {
    const url = new URL(path)
    return url.username || url.password ? undefined : url
  } catch {
    return undefined
  }
}

/** rfc: an absolute-form target's authority must agree with where the request goes (RFC 9112 §3.2.2). */
function sameAuthority(url: URL, origin: string): boolean {
  try {
    const target = new URL(origin)
    return url.protocol === target.protocol && url.host === target.host
  } catch {
    return false
  }
}

function parseOptions(field: string): unknown {
  try {
    return JSON.parse(field)
  } catch {
    return field // validateRequestOptions names it as not an object
  }
}
