import { readdirSync, readFileSync } from 'node:fs';

/** Processes (other than this one) whose command line mentions one of `needles`: what a detonation must not leave. */
export function processesMentioning(needles: readonly string[]): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (needles.some((n) => cmd.includes(n))) out.push(`${pid}: ${cmd.slice(0, 200)}`);
  }
  return out;
}
