import { debuglog } from 'node:util'

/** `NODE_DEBUG=fetch-http-cache`: one short line per decision and why, URLs redacted as stored. */
export const debug = debuglog('fetch-http-cache')
