import type { ServedSocket } from './served-socket.js'

/**
 * What the served socket of an https hit says when asked the `tls.TLSSocket` API (lib/README.md,
 * "The node:http front"). A hit opens no connection, and a stored entry carries nothing of the one
 * it came through (it may have been stored by another process, an earlier run or the fetch front),
 * so the answer is fixed rather than remembered: a certificate kept in memory would be there or not
 * depending on the process's history, and could describe another connection than the entry's.
 * Encrypted and authorized (a response reaches the store only over a connection the caller's agent
 * accepted); no peer certificate, `{}`, as Node answers when there is none; no cipher or protocol.
 */
const TLS_ANSWERS = {
  encrypted: true,
  authorized: true,
  authorizationError: null,
  alpnProtocol: false,
  getPeerCertificate: () => ({}),
  getCertificate: () => ({}),
  getPeerX509Certificate: () => undefined,
  getX509Certificate: () => undefined,
  getCipher: () => null,
  getProtocol: () => null,
  getSession: () => undefined,
  getTLSTicket: () => undefined,
  isSessionReused: () => false,
  getFinished: () => undefined,
  getPeerFinished: () => undefined,
  getEphemeralKeyInfo: () => null,
  getSharedSigalgs: () => [],
  setServername: () => {},
  setMaxSendFragment: () => true,
} as const

/** Makes a served socket answer the TLS API, for a request made over https. */
export function answerAsTls(socket: ServedSocket): ServedSocket {
  return Object.assign(socket, TLS_ANSWERS)
}
