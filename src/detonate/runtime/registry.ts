/**
 * The sandbox runtimes, strongest first: `--sandbox auto` takes the first one usable here. Each lives in its own
 * folder behind the `Runtime` interface (runtime.ts) and is loaded only when a run or a cleanup needs it, so the CLI
 * reads the names alone. A new runtime is a folder here, whose index exports `createRuntime`, and one line below.
 */
import { RuntimeError, type Runtime, type RuntimeName, type RuntimeOptions } from './runtime.js';

/** What a runtime's folder exports to the registry. */
export interface RuntimeModule {
  createRuntime(options?: RuntimeOptions): Runtime;
}

export interface RegisteredRuntime {
  readonly name: RuntimeName;
  load(): Promise<RuntimeModule>;
}

export const RUNTIMES: readonly RegisteredRuntime[] = Object.freeze([
  { name: 'gvisor', load: () => import('./gvisor/index.js') },
  { name: 'runc', load: () => import('./runc/index.js') },
]);

/** The registered names, strongest first. */
export const RUNTIME_NAMES: readonly RuntimeName[] = Object.freeze(RUNTIMES.map((r) => r.name));

async function create(entry: RegisteredRuntime, options: RuntimeOptions): Promise<Runtime> {
  const runtime = (await entry.load()).createRuntime(options);
  if (runtime.name !== entry.name) throw new RuntimeError('invalid', `the runtime registered as "${entry.name}" calls itself "${runtime.name}"`);
  return runtime;
}

/** The runtime registered as `name`, made with `options`; undefined when no runtime has that name. */
export async function createRuntime(name: RuntimeName, options: RuntimeOptions = {}): Promise<Runtime | undefined> {
  const entry = RUNTIMES.find((r) => r.name === name);
  return entry ? create(entry, options) : undefined;
}

/** Every registered runtime, strongest first, made with `options`. */
export function createRuntimes(options: RuntimeOptions = {}): Promise<Runtime[]> {
  return Promise.all(RUNTIMES.map((entry) => create(entry, options)));
}
