import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../model/index.js';
import type { ImageFacts } from '../../image-check.js';
import { runImageChecks } from '../../image-check.js';
import { windowsMalwareCheck } from './index.js';

function finding(partial: Partial<Finding> & Pick<Finding, 'category' | 'rule'>): Finding {
  return { severity: 'info', title: partial.rule, source: 'static', layer: 1, removedInLayer: null, ...partial };
}

function facts(findings: Finding[]): ImageFacts {
  return { config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {} }, history: [], layers: [], files: new Map(), removed: [], packages: [], findings };
}

const pe = (path: string, pe: Record<string, unknown> = {}) =>
  finding({ category: 'windows-pe', rule: 'executables/windows-pe', path, evidence: { pe: { machine: 'i386', ...pe } } });

describe('windows-malware correlation', () => {
  it('leaves Windows executables without a malicious signal as windows-pe only', () => {
    const out = runImageChecks([windowsMalwareCheck], facts([pe('usr/lib/wine/notepad.exe'), pe('app/bin/App.dll', { managed: true })]));
    expect(out.findings.filter((f) => f.category === 'windows-malware')).toEqual([]);
  });

  it('raises windows-malware when the same PE carries a miner or family signal, keeping the evidence', () => {
    const miner = finding({ category: 'cryptominer', rule: 'yara/XMRig', severity: 'critical', title: 'XMRig cryptominer', path: 'opt/x/svchost.exe', attack: ['T1496'] });
    const out = runImageChecks([windowsMalwareCheck], facts([pe('opt/x/svchost.exe'), miner, pe('opt/x/other.exe')]));
    const wm = out.findings.filter((f) => f.category === 'windows-malware');
    expect(wm).toHaveLength(1);
    expect(wm[0]).toMatchObject({ path: 'opt/x/svchost.exe', severity: 'critical', rule: 'windows-malware/pe-with-malicious-signal', attack: ['T1496'] });
    expect(wm[0]!.title).toContain('XMRig');
    expect(wm[0]!.evidence?.signals).toEqual([{ rule: 'yara/XMRig', category: 'cryptominer', title: 'XMRig cryptominer' }]);
  });

  it('does not join findings of the same path in different layers', () => {
    const miner = finding({ category: 'malware', rule: 'known-hashes/match', path: 'a.exe', layer: 2 });
    const out = runImageChecks([windowsMalwareCheck], facts([pe('a.exe'), miner]));
    expect(out.findings.some((f) => f.category === 'windows-malware')).toBe(false);
  });

  it('treats a packed PE with dropper imports as windows-malware, but not an unpacked one', () => {
    const packed = pe('x/setup.exe', { packer: 'UPX', dropperImports: ['URLDownloadToFileA', 'WinExec'] });
    const plain = pe('x/installer.exe', { dropperImports: ['URLDownloadToFileA', 'ShellExecuteW'] });
    const out = runImageChecks([windowsMalwareCheck], facts([packed, plain]));
    const wm = out.findings.filter((f) => f.category === 'windows-malware');
    expect(wm.map((f) => f.path)).toEqual(['x/setup.exe']);
    expect(wm[0]!.rule).toBe('windows-malware/packed-dropper');
  });
});
