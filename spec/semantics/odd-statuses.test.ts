import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, before, it } from 'node:test'
import { Agent, request } from 'undici'
import { forEachFront } from '../helpers/fronts.js'

/** A raw origin: answers `/<n>` with the n-th status line of LINES, whatever HTTP would make of it. */
const LINES = [
  'HTTP/1.1 600 Odd',
  'HTTP/1.1 999 Whatever',
  'HTTP/1.1 200 caf\xe9',
  'HTTP/1.1 200 \xff\xfe\x80',
  'HTTP/1.1 299 ',
  'HTTP/1.1 404 Not\x7fFound',
  'HTTP/1.1 201 \t tabbed',
  'HTTP/1.1 599 Last',
]

async function rawOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer((socket) => {
    socket.once('data', (data) => {
      const path = data.toString('latin1').split(' ')[1] ?? '/0'
      const line = LINES[Number(path.slice(1).split('?')[0])] ?? 'HTTP/1.1 500 Bad'
      socket.end(
        Buffer.from(`${line}\r\ncontent-length: 4\r\nconnection: close\r\ncache-control: max-age=60\r\n\r\nbody`, 'latin1'),
      )
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server }
}

forEachFront('statuses and reasons the front accepts without the cache', (kind) => {
  let origin: { url: string; server: Server }
  const agent = new Agent()
  before(async () => {
    origin = await rawOrigin()
  })
  after(async () => {
    await agent.close()
    await new Promise((resolve) => origin.server.close(resolve))
  })

  /** The answer without the cache: status, reason, body (or the error's name). */
  async function plain(url: string, method: string): Promise<string> {
    try {
      if (kind.name === 'fetch') {
        const response = await fetch(url, { method })
        return `${response.status} ${JSON.stringify(response.statusText)} ${await response.text()}`
      }
      const response = await request(url, { method: method as 'GET', dispatcher: agent })
      return `${response.statusCode} ${await response.body.text()}`
    } catch (error) {
      return (error as Error).name
    }
  }

  it('never make a cached request reject: each gets what the front without the cache gives, twice', async () => {
    const front = kind.open({ backend: 'memory', allowableCodes: [200, 201, 299, 404, 599] })
    try {
      for (const method of ['GET', 'POST']) {
        for (let i = 0; i < LINES.length; i++) {
          const url = `${origin.url}/${i}?${method}`
          const expected = await plain(url, method)
          for (let round = 0; round < 2; round++) {
            let got: string
            try {
              const response = await front.get(url, { method })
              got =
                kind.name === 'fetch'
                  ? `${response.status} ${JSON.stringify(response.statusText)} ${await response.text()}`
                  : `${response.status} ${await response.text()}`
            } catch (error) {
              got = (error as Error).name
            }
            assert.equal(got, expected, `${LINES[i]} (${method}, round ${round + 1})`)
          }
        }
      }
    } finally {
      await front.close()
    }
  })
})
