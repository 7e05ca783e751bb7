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
    this.#values = { ...defaults, ...initial }
    this.#explicit = new Set(Object.keys(initial))
    this.#resolved = resolveSettings(this.#values, this.#explicit)
    this.view = new Proxy(this.#values, {
      set: (target, name, value) => {
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
        const next = { ...target, [name]: value }
        const explicit = new Set(this.#explicit).add(name)
        this.#resolved = resolveSettings(next, explicit)
        this.#explicit = explicit
        ;(target as unknown as Record<string, unknown>)[name] = value
        return true
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
