/** Finding categories (DESIGN §3) and the one set of them that can make an image malicious. */

export const FINDING_CATEGORIES = [
  'cryptominer',
  'hacking-tool',
  'backdoor',
  'windows-malware',
  'malware',
  'malicious-package',
  'secret',
  'misconfiguration',
  'windows-pe',
  'suspicious',
] as const;
export type FindingCategory = (typeof FINDING_CATEGORIES)[number];

/**
 * Categories whose strong evidence (high or critical) makes `verdict.malicious` true. An attack tool is not
 * malicious by definition (security images ship them), so `hacking-tool` is not among them: it is reported, and
 * malicious only through a correlation (a tool the image actually runs against others).
 */
export const MALICIOUS_CATEGORIES: ReadonlySet<FindingCategory> = new Set(['cryptominer', 'backdoor', 'windows-malware', 'malware', 'malicious-package']);

export function isFindingCategory(value: string): value is FindingCategory {
  return (FINDING_CATEGORIES as readonly string[]).includes(value);
}
