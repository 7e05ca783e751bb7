/**
 * One process of "what a response callback throws" (spec/fronts/node-http/front.test.ts): a
 * `http.get` whose callback throws, on a miss, a hit or after a 304 (argv: `cache`|`nocache` and
 * `miss`|`hit`|`revalidated`). Prints how the throw was reported (`uncaughtException <message>`,
 * `unhandledRejection <message>`, or `nothing reported`) and exits.
 */
import http from 'node:http'
import { installCache } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'

const [mode, which] = process.argv.slice(2)
const origin = await startOrigin({
  '*': (req, res) => {
    res.setHeader('etag', '"1"')
    if (req.headers['if-none-match'] === '"1"') return void res.writeHead(304).end()
    res.setHeader('cache-control', which === 'revalidated' ? 'no-cache' : 'max-age=60')
    res.end('body')
  },
})
if (mode === 'cache') installCache({ backend: 'memory', cacheControl: true, nodeHttp: true })
const report = (line: string) => {
  process.stdout.write(`${line}\n`, () => process.exit(0))
}
process.on('uncaughtException', (error) => report(`uncaughtException ${error.message}`))
process.on('unhandledRejection', (error) => report(`unhandledRejection ${(error as Error).message}`))
const url = `${origin.url}/${which}`
if (which !== 'miss') await new Promise((resolve) => http.get(url, (res) => res.resume().on('end', resolve)))
http
  .get(url, () => {
    throw new Error(`thrown on a ${which}`)
  })
  // Reported by now, if at all (an unhandled rejection is told once the microtasks ran).
  .on('close', () => setImmediate(() => report('nothing reported')))
