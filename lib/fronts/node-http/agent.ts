import type { Agent, ClientRequest } from 'node:http'
import type { ConnectTarget } from '../../request/from-client-request.js'

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
    copy[found.index] = options
  }
  return copy
}
