import type { Agent, ClientRequest } from 'node:http'
import { type ConnectTarget, OPTIONS_HEADER } from '../../request/from-client-request.js'

/** Which agent a `node:http` request would use, and the arguments that give it another. */

/**
 * An agent as Node's client uses it: `addRequest()` (undocumented, but what every agent, proxy
 * agents included, implements) is where a request asks for its connection.
 */
export interface ClientAgent extends Agent {
  addRequest(req: ClientRequest, target: ConnectTarget): void
}

/** The agent in a request's arguments, and where those arguments keep their options. */
export interface FoundAgent {
  agent: ClientAgent
  /** Index of the options argument, or where to insert one. */
  index: number
  options: Record<string, unknown> | undefined
}

/** The agent Node would use for these arguments (`agent: false` is a fresh one, as Node makes it). */
export function agentOf(args: unknown[], defaultAgent: () => Agent): FoundAgent | undefined {
  const [first, second] = args
  let index: number
  let options: Record<string, unknown> | undefined
  if (typeof first === 'string' || first instanceof URL) {
    index = 1
    options = second !== null && typeof second === 'object' ? (second as Record<string, unknown>) : undefined
  } else if (first !== null && typeof first === 'object') {
    index = 0
    options = first as Record<string, unknown>
  } else return undefined
  if (options?.socketPath !== undefined) return undefined
  const given = options?.agent
  let agent: ClientAgent
  if (given === false) agent = new (defaultAgent().constructor as new () => ClientAgent)()
  else if (given === undefined || given === null) {
    if (typeof options?.createConnection === 'function') return undefined
    agent = defaultAgent() as ClientAgent
  } else if (typeof (given as ClientAgent).addRequest === 'function') agent = given as ClientAgent
  else return undefined
  return { agent, index, options }
}

/**
 * The arguments with `agent`. For a request of the cache's own (not the caller's): without the
 * caller's signal and response callback, which belong to the caller's request alone.
 */
export function withAgent(args: unknown[], found: FoundAgent, agent: Agent, own: boolean): unknown[] {
  const copy = own ? [...args] : args.filter((arg) => typeof arg !== 'function')
  if (found.options === undefined) copy.splice(found.index, found.index === 0 ? 1 : 0, { agent })
  else {
    const options = Object.assign(Object.create(Object.getPrototypeOf(found.options) as object), found.options, { agent })
    if (!own) options.signal = undefined
    const headers = withoutOptionsHeader(options.headers)
    if (headers) options.headers = headers
    copy[found.index] = options
  }
  return copy
}

/**
 * Header fields Node renders in the constructor, before the cache sees the request (a raw array, or
 * an `Expect`): such a request passes untouched, but without the options header, which would be sent
 * as it is. `undefined` when there is nothing to remove or the fields are read later.
 */
function withoutOptionsHeader(headers: unknown): unknown[] | Record<string, unknown> | undefined {
  const isOptions = (name: unknown) => typeof name === 'string' && name.toLowerCase() === OPTIONS_HEADER
  if (Array.isArray(headers)) {
    // Node takes `[name, value]` pairs or one flat list.
    if (Array.isArray(headers[0])) {
      const kept = headers.filter((pair) => !isOptions((pair as unknown[])[0]))
      return kept.length === headers.length ? undefined : kept
    }
    if (!headers.some(isOptions)) return undefined
    const kept: unknown[] = []
    for (let i = 0; i + 1 < headers.length; i += 2) if (!isOptions(headers[i])) kept.push(headers[i], headers[i + 1])
    return kept
  }
  if (headers === null || typeof headers !== 'object') return undefined
  const names = Object.keys(headers)
  if (!names.some((name) => name.toLowerCase() === 'expect') || !names.some(isOptions)) return undefined
  const kept: Record<string, unknown> = {}
  for (const name of names) if (!isOptions(name)) kept[name] = (headers as Record<string, unknown>)[name]
  return kept
}
