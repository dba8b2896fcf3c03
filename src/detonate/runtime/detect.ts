/**
 * `--sandbox auto|<name>`: auto takes the strongest registered runtime that is usable here (registry.ts), a name
 * that one only; nothing weaker (bare namespaces, chroot) is ever chosen. With none usable the error says how to
 * install one.
 */
import { createRuntimes, RUNTIME_NAMES } from './registry.js';
import { INSTALL_HINT, RuntimeError, type Runtime, type RuntimeName, type RuntimeOptions } from './runtime.js';

/** `auto` or a registered runtime's name. */
export type SandboxChoice = 'auto' | RuntimeName;

/** `--sandbox`'s choices: `auto`, then the registered names. */
export const SANDBOX_CHOICES: readonly SandboxChoice[] = Object.freeze(['auto', ...RUNTIME_NAMES]);

export interface ChooseRuntimeOptions {
  /** What every candidate is made with. */
  runtime?: RuntimeOptions;
  /** For tests: the candidates, strongest first (default: the registered runtimes). */
  candidates?: Runtime[];
}

export async function chooseRuntime(choice: SandboxChoice = 'auto', options: ChooseRuntimeOptions = {}): Promise<Runtime> {
  const candidates = options.candidates ?? (await createRuntimes(options.runtime));
  const wanted = choice === 'auto' ? candidates : candidates.filter((r) => r.name === choice);
  if (wanted.length === 0) {
    throw new RuntimeError('unavailable', `unknown sandbox "${String(choice)}" (expected ${inWords(['auto', ...candidates.map((r) => r.name)])})`);
  }
  const reasons: string[] = [];
  for (const runtime of wanted) {
    const a = await runtime.available();
    if (a.ok) return runtime;
    reasons.push(`${runtime.name}: ${a.reason ?? 'not usable'}`);
  }
  const what = choice === 'auto' ? 'no sandbox runtime is usable' : `the ${choice} sandbox is not usable`;
  throw new RuntimeError('unavailable', `${what} (${reasons.join('; ')})`, `${INSTALL_HINT}; or skip detonation with --static-only`);
}

/** `a, b or c`. */
function inWords(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}
