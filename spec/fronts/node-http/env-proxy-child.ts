/**
 * Run with NODE_USE_ENV_PROXY=1 and HTTP_PROXY set (see env-proxy.test.ts): two GETs of argv[2] via
 * http.get with the cache installed. Prints one JSON line: each answer's status, body, Cache-Status
 * and the path Node wrote.
 */
import http from 'node:http'
import { installCache, uninstallCache } from '../../../lib/index.js'

const url = process.argv[2] as string
installCache({ backend: 'memory', nodeHttp: true })
const seen: { status: number | undefined; body: string; cacheStatus: unknown; path: string }[] = []
for (let i = 0; i < 2; i++) {
  seen.push(
    await new Promise((resolve, reject) => {
      const req = http.get(url, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode, body, cacheStatus: res.headers['cache-status'], path: req.path }))
      })
      req.on('error', reject)
    }),
  )
}
uninstallCache()
console.log(JSON.stringify(seen))
