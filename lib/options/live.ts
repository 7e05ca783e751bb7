import { InvalidOptionValueError } from '../errors.js'
import { isSettingName, isStoreOptionName, resolveSettings, suggestSetting, validateSetting } from './settings.js'
import { type CacheSettings, DEFAULTS, type ResolvedSettings } from './types.js'

/**
 * The settings of one cache: a plain-looking object (`cachedFetch.settings.expireAfter = '5m'`) whose
 * writes are validated on the spot and re-resolved, so the engine always reads a trusted form.
 */
export class LiveSettings {
  readonly view: CacheSettings
  #values: CacheSettings
  #explicit: Set<string>
  #resolved: ResolvedSettings

  constructor(initial: Partial<CacheSettings>) {
    const defaults = Object.fromEntries(
      Object.entries(DEFAULTS).filter(([name]) => isSettingName(name)),
    ) as unknown as CacheSettings
    this.#values = { ...defaults, ...snapshot(initial) }
    this.#explicit = new Set(Object.keys(initial))
    this.#resolved = resolveSettings(this.#values, this.#explicit)
    const assign = (target: CacheSettings, name: string | symbol, value: unknown): boolean => {
      if (typeof name !== 'string' || !isSettingName(name)) {
        const why =
          typeof name !== 'string'
            ? 'is not a setting'
            : isStoreOptionName(name)
              ? 'chooses the store, which is fixed when the cache is created'
              : `is not a setting that can be changed at runtime${suggestSetting(name)}`
        throw new InvalidOptionValueError(String(name), value, why)
      }
      validateSetting(name, value)
      value = snapshot(value)
      const next = { ...target, [name]: value }
      const explicit = new Set(this.#explicit).add(name)
      this.#resolved = resolveSettings(next, explicit)
      this.#explicit = explicit
      ;(target as unknown as Record<string, unknown>)[name] = value
      return true
    }
    this.view = new Proxy(this.#values, {
      set: assign,
      // Object.defineProperty(settings, name, { value }) is a write like any other, validated the same way.
      defineProperty: (target, name, descriptor) => {
        if (!('value' in descriptor)) {
          throw new InvalidOptionValueError(String(name), undefined, 'can only be given a value (no getter or setter)')
        }
        return assign(target, name, descriptor.value)
      },
      deleteProperty: (_target, name) => {
        throw new InvalidOptionValueError(String(name), undefined, 'cannot be deleted; set it to a value instead')
      },
    })
  }

  /** The current settings in the engine's form. */
  get resolved(): ResolvedSettings {
    return this.#resolved
  }
}

/**
 * A frozen copy of a setting's arrays and plain objects, nested ones included: the settings are
 * resolved when written, so an array changed in place afterwards (`settings.matchHeaders.push(…)`,
 * or the caller's own array) would be listed but never applied, and unvalidated. A push now throws,
 * as on the defaults. Functions, patterns and dates are kept as they are.
 */
function snapshot<T>(value: T): T {
  if (Array.isArray(value)) return Object.freeze(value.map(snapshot)) as T
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      return Object.freeze(Object.fromEntries(Object.entries(value).map(([name, item]) => [name, snapshot(item)]))) as T
    }
  }
  return value
}
