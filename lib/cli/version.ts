import { readFileSync } from 'node:fs'

/**
 * The package's name and version from its own package.json: two levels up both from `lib/cli/` (run
 * from source) and from `dist/cli/` (installed), so one path serves both.
 */
export function packageManifest(): { name: string; version: string } {
  const { name, version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string
    version: string
  }
  return { name, version }
}

/** `<name> <version>`, as `--version` prints it. */
export function packageVersion(): string {
  const { name, version } = packageManifest()
  return `${name} ${version}`
}
