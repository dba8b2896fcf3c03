/**
 * Registry credentials, found where `docker login` leaves them: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`. Lookup order per registry, as the Docker CLI does it: a credential helper named in
 * `credHelpers` for that host, then an `auths` entry (`auth` = base64 "user:password", or `username`/`password`,
 * `identitytoken`, `registrytoken`), then the default `credsStore` helper. Docker Hub's entry is keyed
 * `https://index.docker.io/v1/`; `docker.io`, `index.docker.io` and `registry-1.docker.io` keys are accepted too.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_HUB, DOCKER_HUB_CONFIG_KEY } from '../ref.js';
import { CREDENTIAL_HELPER_TIMEOUT_MS, MAX_CREDENTIAL_HELPER_OUTPUT_BYTES, MAX_DOCKER_CONFIG_BYTES } from '../limits.js';

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`): exchanged at the token endpoint. */
  identityToken?: string;
  /** A bearer token to send to the registry as is (`registrytoken`). */
  registryToken?: string;
  /** Where they came from, for messages: `/home/u/.docker/config.json (auths."ghcr.io")`. */
  source: string;
}

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  /** The config file looked at (also when it does not exist). */
  configPath: string;
  /** Why the config or helper could not be used, for error messages; undefined when all was well. */
  problem?: string;
}

const DOCKER_HUB_HOSTS = ['index.docker.io', 'docker.io', 'registry-1.docker.io'];

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/** `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

/** The host part of a config key: `https://index.docker.io/v1/` → `index.docker.io` (as Docker's ConvertToHostname). */
export function configKeyHost(key: string): string {
  const stripped = key.replace(/^https?:\/\//i, '');
  return stripped.split('/')[0]!.toLowerCase();
}

function hostsFor(registry: string): string[] {
  return registry === DOCKER_HUB ? DOCKER_HUB_HOSTS : [registry.toLowerCase()];
}

/** The key of `record` that names `registry`, preferring an exact match (Docker Hub: its v1 URL). */
function findKey(record: Record<string, unknown> | undefined, registry: string): string | undefined {
  if (!record) return undefined;
  const exact = registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;
  if (Object.hasOwn(record, exact)) return exact;
  const hosts = hostsFor(registry);
  return Object.keys(record).find((k) => hosts.includes(configKeyHost(k)));
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function fromAuthEntry(entry: AuthEntry, source: string): RegistryCredentials | { problem: string } | undefined {
  const out: RegistryCredentials = { source };
  const auth = nonEmptyString(entry.auth);
  if (auth) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { problem: `${source}: "auth" is not base64 of "user:password"` };
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  }
  if (!out.username && nonEmptyString(entry.username)) {
    out.username = entry.username as string;
    out.password = nonEmptyString(entry.password) ?? '';
  }
  const identityToken = nonEmptyString(entry.identitytoken);
  if (identityToken) out.identityToken = identityToken;
  const registryToken = nonEmptyString(entry.registrytoken);
  if (registryToken) out.registryToken = registryToken;
  return out.username || out.identityToken || out.registryToken ? out : undefined;
}

/** Runs `docker-credential-NAME get` with the server URL on stdin, as the Docker CLI does. */
async function fromHelper(helper: string, serverUrl: string, source: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | { problem: string } | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper)) return { problem: `${source}: credential helper name "${helper}" is not valid` };
  const program = `docker-credential-${helper}`;
  const output = await new Promise<{ stdout: string; error?: Error & { code?: unknown } }>((resolve) => {
    const child = execFile(program, ['get'], { timeout: CREDENTIAL_HELPER_TIMEOUT_MS, maxBuffer: MAX_CREDENTIAL_HELPER_OUTPUT_BYTES, encoding: 'utf8', env }, (error, stdout) => {
      resolve({ stdout, ...(error ? { error } : {}) });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(serverUrl);
  });
  if (output.error) {
    if (output.error.code === 'ENOENT') return { problem: `${source}: ${program} is not installed` };
    // helpers exit non-zero with "credentials not found" when there is simply no entry
    if (/not found/i.test(output.stdout)) return undefined;
    return { problem: `${source}: ${program} failed: ${output.error.message.split('\n')[0]}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.stdout);
  } catch {
    return { problem: `${source}: ${program} printed something that is not JSON` };
  }
  if (typeof parsed !== 'object' || parsed === null) return { problem: `${source}: ${program} printed no credentials object` };
  const { Username, Secret } = parsed as { Username?: unknown; Secret?: unknown };
  const secret = nonEmptyString(Secret);
  if (!secret) return undefined;
  // By convention a helper returns the username "<token>" for an identity token.
  if (Username === '<token>') return { identityToken: secret, source };
  return { username: nonEmptyString(Username) ?? '', password: secret, source };
}

/** Reads and parses the Docker config; a missing file is normal (no credentials), anything else is a `problem`. */
async function readConfig(path: string): Promise<{ config?: DockerConfigFile; problem?: string }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? {} : { problem: `cannot read ${path}: ${(err as Error).message}` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { problem: `${path} is not a file` };
    if (stat.size > MAX_DOCKER_CONFIG_BYTES) return { problem: `${path} is ${stat.size} bytes, too large for a Docker config` };
    const text = await handle.readFile('utf8');
    const json: unknown = JSON.parse(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { problem: `${path} is not a JSON object` };
    const config = json as DockerConfigFile;
    const isRecord = (v: unknown) => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v));
    if (!isRecord(config.auths) || !isRecord(config.credHelpers)) return { problem: `${path}: "auths" and "credHelpers" must be objects` };
    return { config };
  } catch (err) {
    return { problem: `cannot parse ${path}: ${(err as Error).message}` };
  } finally {
    await handle.close();
  }
}

/** Credentials for `registry` (as references name it: `docker.io`, `ghcr.io`, `localhost:5000`). Never throws. */
export async function lookupCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<CredentialLookup> {
  const configPath = dockerConfigPath(env);
  const { config, problem } = await readConfig(configPath);
  if (!config) return { configPath, ...(problem ? { problem } : {}) };
  const serverUrl = registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;

  const helperKey = findKey(config.credHelpers, registry);
  const helper = helperKey ? nonEmptyString(config.credHelpers?.[helperKey]) : undefined;
  if (helper) {
    const found = await fromHelper(helper, serverUrl, `${configPath} (credHelpers."${helperKey}")`, env);
    if (found && 'problem' in found) return { configPath, problem: found.problem };
    if (found) return { configPath, credentials: found };
  }

  const authKey = findKey(config.auths as Record<string, unknown> | undefined, registry);
  const entry = authKey ? config.auths?.[authKey] : undefined;
  if (entry && typeof entry === 'object') {
    const found = fromAuthEntry(entry, `${configPath} (auths."${authKey}")`);
    if (found && 'problem' in found) return { configPath, problem: found.problem };
    if (found) return { configPath, credentials: found };
  }

  const store = nonEmptyString(config.credsStore);
  if (store) {
    const found = await fromHelper(store, serverUrl, `${configPath} (credsStore)`, env);
    if (found && 'problem' in found) return { configPath, problem: found.problem };
    if (found) return { configPath, credentials: found };
  }
  return { configPath };
}
