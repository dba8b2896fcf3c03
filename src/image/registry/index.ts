/** The registry image source: see source.ts for the factory and its options. */
export { openRegistrySource, RegistrySource, type RegistrySourceOptions } from './source.js';
export { RegistryClient, type FetchedManifest } from './client.js';
export { isInsecureHost, isLoopbackHost, RegistryError } from './transport.js';
export { DEFAULT_REGISTRY_RETRY, DEFAULT_REGISTRY_TIMEOUTS, type RegistryTimeouts, type RetryPolicy } from '../limits.js';
export { dockerConfigPath, lookupCredentials, type CredentialLookup, type RegistryCredentials } from './credentials.js';
export { parseRetryAfter, parseWwwAuthenticate, type AuthChallenge } from './challenge.js';
