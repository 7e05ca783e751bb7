import { readFileSync } from 'node:fs'

/**
 * `<name> <version>` from the package's own package.json: two levels up both from `lib/cli/` (run
 * from source) and from `dist/cli/` (installed), so one path serves both.
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string
    version: string
  }
  return `${manifest.name} ${manifest.version}`
}
