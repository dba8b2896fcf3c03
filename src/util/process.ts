/** Telling whether a process recorded earlier is still the same live process. */
import { readFile } from 'node:fs/promises';

/**
 * The start time of `pid` (field 22 of /proc/<pid>/stat, in clock ticks since boot), or undefined when there is no
 * such process. With the pid it names one process for good: a reused pid has another start time.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields are counted after the last ')'
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process `pid` exists (one of another user's counts: signalling it is refused, not unknown). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
