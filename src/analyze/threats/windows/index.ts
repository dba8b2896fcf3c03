import type { Finding, FindingCategory, Severity } from '../../../model/index.js';
import type { ImageCheck } from '../../image-check.js';

/** Signals that make a Windows executable malicious rather than merely present. */
const MALICIOUS_SIGNALS: ReadonlySet<FindingCategory> = new Set(['cryptominer', 'backdoor', 'malware']);
const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 };

function fileKey(f: Finding): string {
  return `${f.layer ?? -1}\u0000${f.path ?? ''}`;
}

interface PeEvidence {
  packer?: unknown;
  dropperImports?: unknown;
  injectionImports?: unknown;
}

function peEvidence(f: Finding): PeEvidence {
  const pe = f.evidence?.pe;
  return pe && typeof pe === 'object' ? (pe as PeEvidence) : {};
}

function nonEmptyList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0;
}

/**
 * `windows-malware` only where a Windows executable also carries a malicious signal: a family rule, a miner, a
 * known-bad hash (findings of category malware, cryptominer or backdoor on the same file), or a dropper or
 * injection import pattern in a packed program. A PE alone (Wine DLLs, .NET assemblies) stays `windows-pe` (info).
 */
export const windowsMalwareCheck: ImageCheck = {
  name: 'windows-malware',
  version: 1,
  check(facts) {
    const signals = new Map<string, Finding[]>();
    for (const f of facts.findings) {
      if (MALICIOUS_SIGNALS.has(f.category)) {
        const list = signals.get(fileKey(f)) ?? [];
        list.push(f);
        signals.set(fileKey(f), list);
      }
    }
    const findings: Finding[] = [];
    for (const pe of facts.findings) {
      if (pe.category !== 'windows-pe') continue;
      const own = signals.get(fileKey(pe)) ?? [];
      const evidence = peEvidence(pe);
      const behaviour = [
        ...(nonEmptyList(evidence.dropperImports) ? [`imports that download and run a file (${evidence.dropperImports.join(', ')})`] : []),
        ...(nonEmptyList(evidence.injectionImports) ? [`imports that inject code into other processes (${evidence.injectionImports.join(', ')})`] : []),
      ];
      const packed = typeof evidence.packer === 'string' && evidence.packer !== '';
      if (own.length === 0 && !(packed && behaviour.length > 0)) continue;
      const strongest = [...own].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])[0];
      const severity: Severity = strongest && SEVERITY_RANK[strongest.severity] >= SEVERITY_RANK.high ? strongest.severity : 'high';
      const title = strongest
        ? `Windows executable carrying ${strongest.title}`
        : `Packed Windows executable (${String(evidence.packer)}) with ${behaviour.join(' and ')}`;
      findings.push({
        category: 'windows-malware',
        severity,
        title,
        source: 'static',
        rule: strongest ? 'windows-malware/pe-with-malicious-signal' : 'windows-malware/packed-dropper',
        ...(pe.path !== undefined ? { path: pe.path } : {}),
        ...(pe.layer !== undefined ? { layer: pe.layer } : {}),
        removedInLayer: pe.removedInLayer ?? null,
        ...(pe.sha256 !== undefined ? { sha256: pe.sha256 } : {}),
        attack: [...new Set(own.flatMap((f) => f.attack ?? []))],
        evidence: {
          signals: own.map((f) => ({ rule: f.rule, category: f.category, title: f.title })),
          ...(behaviour.length > 0 ? { behaviour, packer: evidence.packer } : {}),
          pe: pe.evidence?.pe ?? null,
        },
      });
    }
    return { findings };
  },
};
