import type { FileHeader } from '../analyzer.js';
import { MAX_EXECUTABLE_BYTES } from '../limits.js';

/** Below this a file is a script or a stub, not a compiled program (a Go "hello" is over 1 MiB). */
export const MIN_EXECUTABLE_BYTES = 1024;

const BIN_DIR = /(^|\/)(s?bin|libexec)\//;

/**
 * Whether a file may be a compiled program worth opening, judged from its header alone (called for every entry,
 * so only string and number tests): executable mode bits, any file under a `bin/`, `sbin/` or `libexec/`
 * directory (images built with odd permissions), or a `.exe`, of a plausible size. The analyzer then checks the magic bytes.
 */
export function isExecutableCandidate(path: string, header: FileHeader): boolean {
  if (header.size < MIN_EXECUTABLE_BYTES || header.size > MAX_EXECUTABLE_BYTES) return false;
  return (header.mode & 0o111) !== 0 || BIN_DIR.test(path) || path.endsWith('.exe');
}
