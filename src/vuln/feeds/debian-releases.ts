import type { AffectedPackage, Ecosystem } from '../model.js';

/** Debian codenames and their release numbers (the os-release VERSION_ID major that `osEcosystem` keys by). */
export const DEBIAN_RELEASES: ReadonlyMap<string, string> = new Map([
  ['woody', '3.0'],
  ['sarge', '3.1'],
  ['etch', '4'],
  ['lenny', '5'],
  ['squeeze', '6'],
  ['wheezy', '7'],
  ['jessie', '8'],
  ['stretch', '9'],
  ['buster', '10'],
  ['bullseye', '11'],
  ['bookworm', '12'],
  ['trixie', '13'],
  ['forky', '14'],
  ['duke', '15'],
  ['sid', 'sid'],
  ['unstable', 'sid'],
]);

/** `bookworm` → `debian:12`, `sid` → `debian:sid`; null for a name Debian never used. */
export function debianEcosystem(codename: string): Ecosystem | null {
  const release = DEBIAN_RELEASES.get(codename.toLowerCase());
  return release ? `debian:${release}` : null;
}

/**
 * The security tracker's markers in place of a fixed version:
 * `<not-affected>` (and `<itp>`, not in the archive) never match; `<unfixed>` / `<undetermined>` are vulnerable with
 * no fix yet; `<no-dsa>`, `<ignored>`, `<postponed>`, `<end-of-life>` and `<removed>` are vulnerable and will not
 * be fixed in that release.
 */
export function debianMarkerStatus(marker: string): AffectedPackage['status'] | null {
  switch (marker.toLowerCase()) {
    case 'not-affected':
    case 'itp':
      return 'not-affected';
    case 'unfixed':
    case 'undetermined':
      return 'unfixed';
    case 'no-dsa':
    case 'ignored':
    case 'postponed':
    case 'end-of-life':
    case 'removed':
      return 'ignored';
    default:
      return null;
  }
}

/** The tracker's urgency as a rating: `low**` → `low`; "not yet assigned" says nothing. */
export function debianUrgency(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const u = value.replace(/\*+$/, '').trim().toLowerCase();
  return u === '' || u === 'not yet assigned' ? undefined : u;
}
