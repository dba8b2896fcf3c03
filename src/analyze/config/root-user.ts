import type { ImageCheck } from '../image-check.js';
import { printable } from '../threats/evidence.js';

/** Whether a config `User` (`name`, `uid`, `name:group`, `uid:gid`) runs processes as root. */
export function isRootUser(user: string): boolean {
  const name = user.trim().split(':')[0]!.trim();
  return name === '' || name === 'root' || /^0+$/.test(name);
}

/** `misconfiguration/root-user`: the image's processes run as root (no USER, or USER root/0). */
export const rootUserCheck: ImageCheck = {
  name: 'root-user',
  version: 1,
  check(facts) {
    const { user, os } = facts.config;
    // Windows images name their users differently (ContainerAdministrator); this check is about Unix uid 0.
    if (os === 'windows' || !isRootUser(user)) return {};
    const shown = printable(user, 64);
    return {
      findings: [{
        category: 'misconfiguration',
        severity: 'low',
        title: user.trim() === '' ? 'Image runs as root (no USER set)' : `Image runs as root (USER ${shown})`,
        source: 'static',
        rule: 'misconfiguration/root-user',
        evidence: { user: shown },
      }],
    };
  },
};
