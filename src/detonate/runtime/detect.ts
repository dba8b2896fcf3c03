/**
 * `--sandbox auto|gvisor|runc`: auto takes gVisor when it is usable here, else hardened runc; nothing weaker
 * (bare namespaces, chroot) is ever chosen. With none usable the error says how to install one.
 */
import { GvisorRuntime, type GvisorOptions } from './gvisor.js';
import { RuncRuntime, type RuncOptions } from './runc.js';
import { INSTALL_HINT, RuntimeError, type Runtime } from './runtime.js';

export type SandboxChoice = 'auto' | 'gvisor' | 'runc';

export interface ChooseRuntimeOptions {
  gvisor?: GvisorOptions;
  runc?: RuncOptions;
  /** For tests: the candidates, strongest first. */
  candidates?: Runtime[];
}

export async function chooseRuntime(choice: SandboxChoice = 'auto', options: ChooseRuntimeOptions = {}): Promise<Runtime> {
  const candidates = options.candidates ?? [new GvisorRuntime(options.gvisor), new RuncRuntime(options.runc)];
  const wanted = choice === 'auto' ? candidates : candidates.filter((r) => r.name === choice);
  if (wanted.length === 0) throw new RuntimeError(`unknown sandbox "${String(choice)}" (expected auto, gvisor or runc)`);
  const reasons: string[] = [];
  for (const runtime of wanted) {
    const a = await runtime.available();
    if (a.ok) return runtime;
    reasons.push(`${runtime.name}: ${a.reason ?? 'not usable'}`);
  }
  const what = choice === 'auto' ? 'no sandbox runtime is usable' : `the ${choice} sandbox is not usable`;
  throw new RuntimeError(`${what} (${reasons.join('; ')})`, `${INSTALL_HINT}; or skip detonation with --static-only`);
}
