import { lineProgress, silentProgress, type Progress } from '../progress/progress.js';

/** Bars on a terminal, plain lines otherwise (logs, CI), nothing with --quiet. Bars load only when used. */
export async function progressFor(quiet: boolean): Promise<Progress> {
  if (quiet) return silentProgress;
  return process.stderr.isTTY ? (await import('../progress/bars.js')).barProgress() : lineProgress();
}
