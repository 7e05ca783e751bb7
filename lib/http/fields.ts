/** Header field grammar and the fields the cache treats specially. */

/** An HTTP field name (RFC 9110 §5.1: a token). */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Request headers that carry credentials: never stored in clear, and they partition the cache. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie']
