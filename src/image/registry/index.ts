/** The registry image source: see source.ts for the factory and its options. */
export { openRegistrySource, RegistrySource, type RegistrySourceOptions } from './source.js';
export { RegistryClient, type FetchedManifest } from './client.js';
export { DEFAULT_RETRY, DEFAULT_TIMEOUTS, isInsecureHost, isLoopbackHost, RegistryError, type RegistryTimeouts, type RetryPolicy } from './transport.js';
export { dockerConfigPath, lookupCredentials, type CredentialLookup, type RegistryCredentials } from './credentials.js';
export { parseRetryAfter, parseWwwAuthenticate, type AuthChallenge } from './challenge.js';
