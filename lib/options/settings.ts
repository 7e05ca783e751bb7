import type { Store } from '../entry/store.js'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { CREDENTIAL_PARAMETERS } from '../http/credential-parameters.js'
import { CREDENTIAL_HEADERS, FIELD_NAME } from '../http/fields.js'
import { compileUrlRules, type Expiry, parseExpireAfter, parseStaleLimit } from './expire-after.js'
import { parseRedisOptions } from './redis.js'
import { didYouMean } from './suggest.js'
import { type CacheSettings, DEFAULTS, type RequestCacheOptions, type ResolvedSettings, type StoreOptions } from './types.js'

// The compiler keeps these lists complete: an option missing here fails the type check.
const SETTING_NAMES: { [K in keyof CacheSettings]-?: true } = {
  expireAfter: true,
  urlsExpireAfter: true,
  cacheControl: true,
  allowableMethods: true,
  allowableCodes: true,
  filter: true,
  matchHeaders: true,
  ignoredParameters: true,
  credentialHeaders: true,
  credentialParameters: true,
  keyFn: true,
  staleIfError: true,
  staleWhileRevalidate: true,
  alwaysRevalidate: true,
  onlyIfCached: true,
  forceRefresh: true,
  tagHeaders: true,
  readOnly: true,
  disabled: true,
  coalesce: true,
  maxEntrySize: true,
  onError: true,
}
const STORE_OPTION_NAMES: { [K in keyof StoreOptions]-?: true } = {
  backend: true,
  redis: true,
  cacheName: true,
  useCacheDir: true,
  useTemp: true,
  maxSize: true,
  maxEntries: true,
}

const REQUEST_OPTION_NAMES: { [K in keyof RequestCacheOptions]-?: true } = {
  expireAfter: true,
  cacheControl: true,
  onlyIfCached: true,
  refresh: true,
  forceRefresh: true,
  staleIfError: true,
  staleWhileRevalidate: true,
}

export function isSettingName(name: string): name is keyof CacheSettings {
  return Object.hasOwn(SETTING_NAMES, name)
}

/** Whether `name` is an option that chooses the store: given at creation, fixed afterwards. */
export function isStoreOptionName(name: string): name is keyof StoreOptions {
  return Object.hasOwn(STORE_OPTION_NAMES, name)
}

/** `' (did you mean "expireAfter"?)'` for a misspelt setting name, or `''`. */
export function suggestSetting(name: string): string {
  return didYouMean(name, Object.keys(SETTING_NAMES))
}

/** Validates every option (unknown ones included) and splits them into settings and store options. */
export function splitOptions(options: unknown): { settings: Partial<CacheSettings>; store: StoreOptions } {
  if (options === undefined) return { settings: {}, store: storeDefaults() as unknown as StoreOptions }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionTypeError('options', options, 'an object')
  }
  const settings: Record<string, unknown> = {}
  const store: Record<string, unknown> = storeDefaults()
  const given = new Set<keyof StoreOptions>()
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue
    if (isSettingName(name)) {
      validateSetting(name, value)
      settings[name] = value
    } else if (isStoreOptionName(name)) {
      store[name] = value
      given.add(name)
    } else {
      const suggestion = didYouMean(name, [...Object.keys(SETTING_NAMES), ...Object.keys(STORE_OPTION_NAMES)])
      throw new InvalidOptionValueError(name, value, `is not a fetch-http-cache option${suggestion}`)
    }
  }
  validateStoreOptions(store as unknown as StoreOptions)
  refuseContradictions(store as unknown as StoreOptions, given)
  return { settings: settings as Partial<CacheSettings>, store: store as unknown as StoreOptions }
}

/** The backends each store option applies to; `backend` itself applies to all. */
const APPLIES_TO: { [K in Exclude<keyof StoreOptions, 'backend'>]-?: readonly string[] } = {
  redis: ['redis'],
  cacheName: ['sqlite', 'files'],
  useCacheDir: ['sqlite', 'files'],
  useTemp: ['sqlite', 'files'],
  maxSize: ['sqlite', 'memory'],
  maxEntries: ['memory'],
}

/**
 * A store option given for a backend that ignores it is refused, the same way for every option and
 * backend: a setting that would silently do nothing is a mistake worth hearing about at start-up.
 * The server's maxmemory bounds Redis; a `Store` instance was configured when it was made.
 */
function refuseContradictions(store: StoreOptions, given: ReadonlySet<keyof StoreOptions>): void {
  const backend = typeof store.backend === 'string' ? store.backend : 'a Store instance'
  for (const name of given) {
    if (name === 'backend') continue
    const backends = APPLIES_TO[name]
    if (backends.includes(backend)) continue
    const where = backends.map((b) => `'${b}'`).join(' or ')
    const hint = backend === 'redis' && name.startsWith('max') ? ' (set maxmemory on the server)' : ''
    throw new InvalidOptionValueError(
      name,
      store[name],
      `applies only with backend: ${where}, not with ${typeof store.backend === 'string' ? `backend: '${backend}'` : backend}${hint}`,
    )
  }
}

function storeDefaults(): Record<string, unknown> {
  const { backend, redis, cacheName, useCacheDir, useTemp, maxSize, maxEntries } = DEFAULTS
  return { backend, redis, cacheName, useCacheDir, useTemp, maxSize, maxEntries }
}

function validateStoreOptions(store: StoreOptions): void {
  const backend: unknown = store.backend
  if (backend !== 'sqlite' && backend !== 'memory' && backend !== 'redis' && backend !== 'files' && !isStore(backend)) {
    throw new InvalidOptionValueError('backend', backend, "must be 'sqlite', 'memory', 'redis', 'files' or a Store instance")
  }
  if (backend === 'files') {
    // A fixture directory keeps what was recorded: nothing prunes it.
    for (const name of ['maxSize', 'maxEntries'] as const) {
      if (store[name] !== undefined) throw new InvalidOptionValueError(name, store[name], "does not apply to backend 'files'")
    }
  }
  if (backend === 'redis') parseRedisOptions('redis', store.redis)
  if (typeof store.cacheName !== 'string' || store.cacheName === '') {
    throw new InvalidOptionTypeError('cacheName', store.cacheName, 'a non-empty string')
  }
  expectBoolean('useCacheDir', store.useCacheDir)
  expectBoolean('useTemp', store.useTemp)
  if (store.useCacheDir && store.useTemp) {
    throw new InvalidOptionValueError('useTemp', true, 'cannot be combined with useCacheDir')
  }
  if (store.maxSize !== undefined) expectPositiveInteger('maxSize', store.maxSize)
  if (store.maxEntries !== undefined) expectPositiveInteger('maxEntries', store.maxEntries)
}

function isStore(value: unknown): value is Store {
  if (value === null || typeof value !== 'object') return false
  const store = value as Record<string, unknown>
  return ['get', 'set', 'delete', 'clear', 'records', 'close'].every((m) => typeof store[m] === 'function')
}

/** Throws a typed error naming the option when `value` is not acceptable for `name`. */
export function validateSetting(name: keyof CacheSettings, value: unknown): void {
  switch (name) {
    case 'expireAfter':
      parseExpireAfter(name, value)
      return
    case 'urlsExpireAfter':
      compileUrlRules(name, value)
      return
    case 'staleIfError':
    case 'staleWhileRevalidate':
      parseStaleLimit(name, value)
      return
    case 'cacheControl':
      if (typeof value === 'boolean' || value === 'shared') return
      if (typeof value === 'string') throw new InvalidOptionValueError(name, value, "must be true, false or 'shared'")
      throw new InvalidOptionTypeError(name, value, "a boolean or 'shared'")
    case 'onlyIfCached':
      if (typeof value === 'boolean' || value === 'throw') return
      if (typeof value === 'string') throw new InvalidOptionValueError(name, value, "must be true, false or 'throw'")
      throw new InvalidOptionTypeError(name, value, "a boolean or 'throw'")
    case 'tagHeaders':
      expectStringList(name, value)
      for (const [i, header] of (value as string[]).entries()) {
        if (!FIELD_NAME.test(header)) throw new InvalidOptionValueError(`${name}[${i}]`, header, 'must be a header name')
      }
      return
    case 'alwaysRevalidate':
    case 'forceRefresh':
    case 'readOnly':
    case 'disabled':
    case 'coalesce':
      expectBoolean(name, value)
      return
    case 'allowableMethods':
      expectStringList(name, value)
      return
    case 'allowableCodes':
      if (!Array.isArray(value)) throw new InvalidOptionTypeError(name, value, 'an array of status codes')
      for (const [i, code] of value.entries()) {
        if (!Number.isInteger(code) || code < 100 || code > 599) {
          throw new InvalidOptionValueError(`${name}[${i}]`, code, 'must be an integer status code from 100 to 599')
        }
      }
      return
    case 'matchHeaders':
      if (typeof value === 'boolean') return
      if (!Array.isArray(value)) throw new InvalidOptionTypeError(name, value, 'true, false or an array of header names')
      expectStringList(name, value)
      for (const [i, header] of (value as string[]).entries()) {
        if (!FIELD_NAME.test(header)) throw new InvalidOptionValueError(`${name}[${i}]`, header, 'must be a header name')
      }
      return
    case 'ignoredParameters':
    case 'credentialParameters':
      expectStringList(name, value)
      return
    case 'credentialHeaders':
      expectStringList(name, value)
      for (const [i, header] of (value as string[]).entries()) {
        if (!FIELD_NAME.test(header)) throw new InvalidOptionValueError(`${name}[${i}]`, header, 'must be a header name')
      }
      return
    case 'filter':
    case 'keyFn':
    case 'onError':
      if (value !== undefined && typeof value !== 'function') throw new InvalidOptionTypeError(name, value, 'a function')
      return
    case 'maxEntrySize':
      expectPositiveInteger(name, value)
      return
    default:
      name satisfies never
  }
}

/** Turns validated settings (defaults filled in) into the engine's form. */
export function resolveSettings(settings: CacheSettings, explicit: ReadonlySet<string>): ResolvedSettings {
  const lower = (list: readonly string[]) => list.map((s) => s.toLowerCase())
  return {
    expiry: parseExpireAfter('expireAfter', settings.expireAfter),
    expiryExplicit: explicit.has('expireAfter'),
    urlRules: compileUrlRules('urlsExpireAfter', settings.urlsExpireAfter),
    cacheControl: settings.cacheControl !== false,
    sharedCache: settings.cacheControl === 'shared',
    allowableMethods: new Set(settings.allowableMethods.map((m) => m.toUpperCase())),
    allowableCodes: new Set(settings.allowableCodes),
    allowableCodesExplicit: explicit.has('allowableCodes'),
    filter: settings.filter,
    matchHeaders: settings.matchHeaders === true ? true : settings.matchHeaders === false ? [] : lower(settings.matchHeaders),
    ignored: new Set(settings.ignoredParameters),
    ignoredHeaders: new Set(lower(settings.ignoredParameters)),
    credentialHeaders: [...new Set([...CREDENTIAL_HEADERS, ...lower(settings.credentialHeaders)])],
    credentialParameters: new Set([...CREDENTIAL_PARAMETERS, ...lower(settings.credentialParameters)]),
    keyFn: settings.keyFn,
    staleIfError: parseStaleLimit('staleIfError', settings.staleIfError),
    staleWhileRevalidate: parseStaleLimit('staleWhileRevalidate', settings.staleWhileRevalidate),
    alwaysRevalidate: settings.alwaysRevalidate,
    onlyIfCached: settings.onlyIfCached,
    forceRefresh: settings.forceRefresh,
    tagHeaders: lower(settings.tagHeaders),
    readOnly: settings.readOnly,
    disabled: settings.disabled,
    coalesce: settings.coalesce,
    maxEntrySize: settings.maxEntrySize,
    onError: settings.onError,
  }
}

/** `cacheOptions` once validated: the values parsed, so nothing downstream parses them again. */
export interface ParsedRequestOptions {
  /** `expireAfter`, parsed. */
  expiry?: Expiry
  cacheControl?: boolean
  onlyIfCached?: boolean | 'throw'
  refresh?: boolean
  forceRefresh?: boolean
  /** `staleIfError` and `staleWhileRevalidate` in ms past expiry. */
  staleIfError?: number
  staleWhileRevalidate?: number
}

const NO_REQUEST_OPTIONS: ParsedRequestOptions = Object.freeze({})

/** Validates and parses `init.cacheOptions`. Runs per request, so it only looks at what was given. */
export function validateRequestOptions(value: unknown): ParsedRequestOptions {
  if (value === undefined) return NO_REQUEST_OPTIONS
  if (value === null || typeof value !== 'object') throw new InvalidOptionTypeError('cacheOptions', value, 'an object')
  const parsed: ParsedRequestOptions = {}
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined) continue
    switch (name) {
      case 'expireAfter':
        parsed.expiry = parseExpireAfter(`cacheOptions.${name}`, v)
        break
      case 'staleIfError':
      case 'staleWhileRevalidate':
        parsed[name] = parseStaleLimit(`cacheOptions.${name}`, v)
        break
      case 'onlyIfCached':
        if (typeof v === 'string' && v !== 'throw') {
          throw new InvalidOptionValueError(`cacheOptions.${name}`, v, "must be true, false or 'throw'")
        }
        if (typeof v !== 'boolean' && v !== 'throw') {
          throw new InvalidOptionTypeError(`cacheOptions.${name}`, v, "a boolean or 'throw'")
        }
        parsed[name] = v
        break
      case 'refresh':
      case 'forceRefresh':
        expectBoolean(`cacheOptions.${name}`, v)
        parsed[name] = v
        break
      case 'cacheControl':
        // Whether a cache is shared is the cache's own setting: a request only turns the headers off or on.
        if (v === 'shared')
          throw new InvalidOptionValueError(`cacheOptions.${name}`, v, "must be true or false ('shared' is a cache's setting)")
        expectBoolean(`cacheOptions.${name}`, v)
        parsed[name] = v
        break
      default: {
        const suggestion = didYouMean(name, Object.keys(REQUEST_OPTION_NAMES))
        throw new InvalidOptionValueError(`cacheOptions.${name}`, v, `is not a per-request cache option${suggestion}`)
      }
    }
  }
  return parsed
}

function expectBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionTypeError(name, value, 'a boolean')
}

function expectPositiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number') throw new InvalidOptionTypeError(name, value, 'a number')
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionValueError(name, value, 'must be a positive integer')
}

function expectStringList(name: string, value: unknown): void {
  if (!Array.isArray(value)) throw new InvalidOptionTypeError(name, value, 'an array of strings')
  for (const [i, item] of value.entries()) {
    if (typeof item !== 'string' || item === '') throw new InvalidOptionTypeError(`${name}[${i}]`, item, 'a non-empty string')
  }
}
