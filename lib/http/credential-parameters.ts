/**
 * Query parameters that carry credentials (compared case-insensitively): they partition the cache and
 * are stored only as a keyed hash. OAuth 2.0 bearer tokens in the query (RFC 6750 §2.3), API keys, and
 * the signatures of pre-signed URLs (README, "Reliability and security", names who uses which).
 */
export const CREDENTIAL_PARAMETERS: readonly string[] = [
  'access_token',
  'id_token',
  'refresh_token',
  'auth_token',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'appid',
  'client_secret',
  'password',
  'sig',
  'signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'x-goog-credential',
  'x-goog-signature',
]
