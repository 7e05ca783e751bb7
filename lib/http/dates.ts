/** HTTP-dates (RFC 9110 §5.6.7). */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAY = '(?:mon|tue|wed|thu|fri|sat|sun)'
const LONG_DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)'
const MONTH = `(${MONTHS.join('|')})`
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete rfc850-date and asctime-date a recipient must accept.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i')
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i')
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i')

/**
 * An HTTP-date (RFC 9110 §5.6.7) in ms, or `undefined` when absent or malformed. Only the three
 * formats HTTP defines are accepted (names compared case-insensitively): anything else is invalid,
 * which for `Expires` means already expired (RFC 9111 §5.3). `Date.parse` is not used: it accepts
 * `"0"` or `"2050"` as dates.
 */
export function parseHttpDate(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const known = parsed.get(value)
  if (known !== undefined) return known
  const text = value.trim()
  let match = IMF_FIXDATE.exec(text)
  if (match) {
    const ms = utc(Number(match[3]), match[2], match[1], match[4], match[5], match[6])
    if (ms !== undefined) remember(value, ms)
    return ms
  }
  match = RFC850_DATE.exec(text)
  if (match) {
    // A two-digit year more than 50 years in the future is the most recent past year with those digits.
    const yy = Number(match[3])
    const thisYear = new Date(now).getUTCFullYear()
    let year = Math.floor(thisYear / 100) * 100 + yy
    if (year > thisYear + 50) year -= 100
    return utc(year, match[2], match[1], match[4], match[5], match[6])
  }
  match = ASCTIME_DATE.exec(text)
  if (match) return utc(Number(match[6]), match[1], match[2], match[3], match[4], match[5])
  return undefined
}

/**
 * IMF-fixdates already parsed (they do not depend on `now`): the same `Date` comes with every response
 * in a second, and the same `Last-Modified` with every response of a resource. Bounded: cleared when full.
 */
const parsed = new Map<string, number>()
const MAX_PARSED = 256

function remember(value: string, ms: number): void {
  if (parsed.size >= MAX_PARSED) parsed.clear()
  parsed.set(value, ms)
}

/**
 * The first member of a field that must be single (`Date`, `Expires`) but arrived as a list, from
 * several field lines or a comma (RFC 9111 §4.2.1 "the first occurrence should be used"). Dates
 * contain a comma themselves, so the first prefix that parses as a date wins.
 */
export function firstHttpDate(value: string | null): number | undefined {
  if (value === null) return undefined
  const whole = parseHttpDate(value)
  if (whole !== undefined) return whole
  for (let comma = value.indexOf(','); comma !== -1; comma = value.indexOf(',', comma + 1)) {
    const parsed = parseHttpDate(value.slice(0, comma))
    if (parsed !== undefined) return parsed
  }
  return undefined
}

function utc(
  year: number,
  month: string | undefined,
  day: string | undefined,
  h?: string,
  m?: string,
  s?: string,
): number | undefined {
  const monthIndex = MONTHS.indexOf(month?.toLowerCase() ?? '')
  const d = Number(day?.trim())
  const [hours, minutes, seconds] = [Number(h), Number(m), Number(s)]
  if (monthIndex < 0 || hours > 23 || minutes > 59 || seconds > 60) return undefined
  const ms = Date.UTC(year, monthIndex, d, hours, minutes, Math.min(seconds, 59))
  // Reject dates the calendar does not have (e.g. 31 Feb), which Date.UTC would roll over.
  if (new Date(ms).getUTCDate() !== d) return undefined
  return ms
}
