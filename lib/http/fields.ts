/** Header field grammar and the fields the cache treats specially. */

/** An HTTP field name (RFC 9110 §5.1: a token). */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Request headers that carry credentials: never stored in clear, and they partition the cache. The
 * standard three first (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §5.4), then the API-key headers popular
 * APIs use (README, "Reliability and security", names who uses which).
 */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'private-token',
  'x-rapidapi-key',
  'x-vault-token',
  'x-shopify-access-token',
  'x-algolia-api-key',
  'x-amz-security-token',
]
