import { FilterError } from '../errors.js'
import { isBodiless } from '../http/bodiless.js'
import type { OriginResponse } from './outcome.js'

/**
 * The `filter` setting, asked once a response's body has arrived and before it is stored. The filter
 * gets a `Response` of its own over the recorded bytes (without content-coding), so it may read the
 * body at no cost to the caller, whose own stream is untouched; the same on every front. Resolves
 * `true` to store; a filter that throws or rejects resolves `false`, its error handed to `report` as a
 * {@link FilterError}.
 */
export async function passesFilter(
  filter: (response: Response) => boolean | Promise<boolean>,
  response: OriginResponse,
  body: Uint8Array,
  report: (error: FilterError) => void,
): Promise<boolean> {
  try {
    return (await filter(filterView(response, body))) !== false
  } catch (error) {
    report(new FilterError(error))
    return false
  }
}

/** The origin's status, headers and URL over the recorded body, as a `Response`. */
function filterView(response: OriginResponse, body: Uint8Array): Response {
  const content = isBodiless(response.status) ? null : body
  const init = { status: response.status, statusText: response.statusText, headers: response.headers }
  let view: Response
  try {
    view = new Response(content, init)
  } catch {
    // A reason phrase the origin sent but the constructor refuses: the filter gets the status alone.
    view = new Response(content, { ...init, statusText: '' })
  }
  // The constructor cannot set these; own properties shadow the prototype's getters.
  return Object.defineProperties(view, { url: { value: response.url }, redirected: { value: response.redirected } })
}
