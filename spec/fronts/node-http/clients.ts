import http from 'node:http'
import { createRequire } from 'node:module'
import axios from 'axios'
import got from 'got'
import nodeFetch3 from 'node-fetch3'

/**
 * Real HTTP clients built on node:http (devDependencies), behind one shape: a GET through an optional
 * agent, answered with status, body and Cache-Status, or failing with the client's own error.
 */

const require = createRequire(import.meta.url)

/** What a client's GET gave. */
export interface Answer {
  status: number
  body: string
  header(name: string): string | undefined
}

export type Client = (url: string, agent?: http.Agent) => Promise<Answer>

function one(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

type NodeFetch2 = (url: string, init?: { agent?: http.Agent }) => Promise<Response>
interface SuperagentRequest extends PromiseLike<{ status: number; text: string; headers: Record<string, unknown> }> {
  ok(check: () => boolean): SuperagentRequest
  agent(agent: http.Agent): SuperagentRequest
}
type Needle = (
  method: string,
  url: string,
  data: null,
  options: { agent?: http.Agent | undefined; parse: boolean },
) => Promise<{ statusCode?: number; body: unknown; headers: Record<string, unknown> }>

export const CLIENTS: Record<string, Client> = {
  'http.get': (url, agent) =>
    new Promise((resolve, reject) => {
      http
        .get(url, agent ? { agent } : {}, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            body += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, header: (name) => one(res.headers[name]) }))
          res.on('error', reject)
        })
        .on('error', reject)
    }),
  axios: async (url, agent) => {
    const r = await axios.get<string>(url, {
      ...(agent ? { httpAgent: agent } : {}),
      responseType: 'text',
      validateStatus: () => true,
      proxy: false,
    })
    return { status: r.status, body: r.data, header: (name) => one(r.headers[name]) }
  },
  got: async (url, agent) => {
    const r = await got(url, { ...(agent ? { agent: { http: agent } } : {}), throwHttpErrors: false, retry: { limit: 0 } })
    return { status: r.statusCode, body: r.body, header: (name) => one(r.headers[name]) }
  },
  'node-fetch 2': async (url, agent) => {
    const r = await (require('node-fetch') as NodeFetch2)(url, agent ? { agent } : {})
    return { status: r.status, body: await r.text(), header: (name) => r.headers.get(name) ?? undefined }
  },
  'node-fetch 3': async (url, agent) => {
    const r = await nodeFetch3(url, agent ? { agent } : {})
    return { status: r.status, body: await r.text(), header: (name) => r.headers.get(name) ?? undefined }
  },
  superagent: async (url, agent) => {
    let request = (require('superagent') as { get(url: string): SuperagentRequest }).get(url).ok(() => true)
    if (agent) request = request.agent(agent)
    const r = await request
    return { status: r.status, body: r.text, header: (name) => one(r.headers[name]) }
  },
  needle: async (url, agent) => {
    const r = await (require('needle') as Needle)('get', url, null, { agent, parse: false })
    return { status: r.statusCode ?? 0, body: String(r.body), header: (name) => one(r.headers[name]) }
  },
}

/** How a call failed, by what its caller can see: the error's name and code (`undefined` when it did not fail). */
export async function failureOf(call: Promise<unknown>): Promise<{ name: string | undefined; code: unknown } | undefined> {
  try {
    await call
    return undefined
  } catch (error) {
    const e = error as { name?: string; code?: unknown; cause?: { code?: unknown } }
    return { name: e.name, code: e.code ?? e.cause?.code }
  }
}
