import { dataFileDigest } from '../../config/paths.js';
import type { Finding } from '../../model/index.js';
import type { ImageCheck, ImageFacts } from '../image-check.js';
import { printable } from '../threats/evidence.js';
import { configRules } from './rules.js';

const SETUID = 0o4000;
const SETGID = 0o2000;

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The layer that deleted or replaced the version of `path` that `layer` added; null while it is in the final view. */
export function removedInLayerOf(facts: ImageFacts, path: string, layer: number): number | null {
  const live = facts.files.get(path);
  if (live && live.layer === layer) return null;
  const gone = facts.removed.find((f) => f.path === path && f.layer === layer);
  return gone?.removedInLayer ?? null;
}

/**
 * `backdoor/setuid-shell`: a shell or interpreter with the setuid bit, in any layer (a root shell for anyone who can
 * run it). `misconfiguration/setuid-added`: other setuid/setgid files added by a layer above the base layer; programs
 * distributions ship setuid (su, passwd, sudo …) are info there, and the base layer's own are never reported.
 */
export const setuidCheck: ImageCheck = {
  name: 'setuid',
  version: 1,
  get configKey(): string {
    return dataFileDigest('config.yaml');
  },
  check(facts) {
    const rules = configRules();
    const findings: Finding[] = [];
    // Special bits each path had in the layers below the one being read: an upgrade re-adding the same bits adds nothing.
    const lowerBits = new Map<string, number>();
    facts.layers.forEach((layer, index) => {
      for (const entry of layer.entries) {
        if (entry.type !== 'file') continue;
        const bits = entry.mode & (SETUID | SETGID);
        if (bits === 0) continue;
        const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
        const where = { path: entry.path, layer: index, removedInLayer: removedInLayerOf(facts, entry.path, index) };
        const evidence = { mode: octal(entry.mode), setuid: (bits & SETUID) !== 0, setgid: (bits & SETGID) !== 0 };
        if ((bits & SETUID) !== 0 && rules.isSetuidShell(name)) {
          findings.push({
            category: 'backdoor',
            severity: 'high',
            title: `Setuid ${printable(name, 64)}: a shell for anyone who can run it`,
            source: 'static',
            rule: 'backdoor/setuid-shell',
            ...where,
            attack: ['T1548.001'],
            evidence,
          });
          continue;
        }
        if (index === 0 || (lowerBits.get(entry.path) ?? 0) === bits) continue;
        const standard = rules.isStandardSetuidProgram(name);
        const kind = evidence.setuid ? 'Setuid' : 'Setgid';
        findings.push({
          category: 'misconfiguration',
          severity: standard ? 'info' : 'moderate',
          title: `${kind} file added: ${printable(entry.path, 160)}`,
          source: 'static',
          rule: 'misconfiguration/setuid-added',
          ...where,
          attack: ['T1548.001'],
          evidence: { ...evidence, ...(standard ? { standardProgram: true } : {}) },
        });
      }
      for (const entry of layer.entries) {
        if (entry.type === 'file') lowerBits.set(entry.path, entry.mode & (SETUID | SETGID));
        else lowerBits.delete(entry.path);
      }
      for (const w of layer.whiteouts) lowerBits.delete(w);
    });
    return { findings };
  },
};
