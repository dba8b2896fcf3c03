import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianPackageDir } from '../../../../test/support/debian-packages.js';
import type { DetectedFinding } from '../../analyzer.js';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { executablesAnalyzer } from './index.js';

/**
 * Recall and precision on real third-party programs from Debian packages (`.cache/debs/`, fetched with
 * `apt-get download` when missing: test/support/debian-packages.ts): ClamAV's packed test programs, Wine's 600+ Windows DLLs and programs,
 * and Linux attack tools that must be seen as plain (unpacked) programs here.
 */
const extract = debianPackageDir;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = lstatSync(path);
    if (st.isDirectory()) yield* files(path);
    else if (st.isFile()) yield path;
  }
}

/** Runs the analyzer over every file of a tree it wants, one file at a time (Wine is ~300 MB). */
function analyzeTree(root: string): { wanted: number; findings: (DetectedFinding & { path: string })[] } {
  const findings: (DetectedFinding & { path: string })[] = [];
  let wanted = 0;
  for (const file of files(root)) {
    const st = lstatSync(file);
    const path = relative(root, file);
    const header = { path, type: 'file' as const, size: st.size, mode: st.mode & 0o7777 };
    if (!executablesAnalyzer.wants(path, header)) continue;
    wanted++;
    const out = executablesAnalyzer.analyze({ ...header, content: readFileSync(file) }, { maxNestedArchiveDepth: 0, maxNestedArchiveBytes: 0 });
    if (out instanceof Promise) throw new Error('analyze is synchronous');
    for (const f of out.findings ?? []) findings.push({ ...f, path });
  }
  return { wanted, findings };
}

describe('ClamAV packed test programs (clamav-testfiles .deb)', () => {
  it('names the packer of each where the signal is unambiguous', async () => {
    const dir = join(extract('clamav-testfiles'), 'usr/share/clamav-testfiles');
    const expected: Record<string, string | null> = {
      'clam-upx.exe': 'upx',
      'clam-aspack.exe': 'aspack',
      'clam-mew.exe': 'mew',
      'clam-petite.exe': 'petite',
      'clam-pespin.exe': 'pespin',
      'clam-upack.exe': 'upack',
      'clam-wwpack.exe': 'wwpack',
      // yoda's Crypter over UPX: the outer layer (holding the entry point) is named.
      'clam-yc.exe': 'yoda-crypter',
      // Debian rebuilds this one (+dfsg) as a plain program carrying clam.exe in a section: nothing is packed.
      'clam-fsg.exe': null,
      'clam.exe': null,
    };
    const { findings } = await analyzeFiles(
      [executablesAnalyzer],
      Object.keys(expected).map((name) => ({ path: `opt/samples/${name}`, content: readFileSync(join(dir, name)), mode: 0o644 })),
    );
    for (const [name, packer] of Object.entries(expected)) {
      const mine = findings.filter((f) => f.path === `opt/samples/${name}`);
      expect(mine.filter((f) => f.category === 'windows-pe'), name).toHaveLength(1);
      const suspicious = mine.filter((f) => f.category === 'suspicious');
      if (packer === null) {
        expect(suspicious, name).toEqual([]);
      } else {
        expect(suspicious.map((f) => f.rule), name).toEqual([`executables/packed-${packer}`]);
        expect(suspicious[0]).toMatchObject({ severity: 'moderate', attack: ['T1027.002'], evidence: { packer } });
      }
      expect(mine.every((f) => f.category === 'windows-pe' || f.category === 'suspicious')).toBe(true);
    }
  });
});

describe("Wine's Windows DLLs and programs (libwine .deb)", () => {
  it('reports every PE as windows-pe and none as suspicious', () => {
    const { findings } = analyzeTree(extract('libwine'));
    const pe = findings.filter((f) => f.category === 'windows-pe');
    expect(pe.length).toBeGreaterThanOrEqual(600);
    expect(findings.filter((f) => f.category !== 'windows-pe')).toEqual([]);
    const managed = pe.filter((f) => (f.evidence as { pe: { managed: boolean } }).pe.managed);
    expect(managed.length).toBeLessThan(pe.length);
    const kernel32 = pe.find((f) => f.path.endsWith('x86_64-windows/kernel32.dll'));
    expect(kernel32?.evidence).toMatchObject({ pe: { kind: 'dll', machine: 'x86_64', format: 'PE32+' } });
  }, 120_000);
});

describe.each(['nmap', 'masscan', 'hydra'])('Debian %s', (name) => {
  it('is a plain program here: no finding from this detector', () => {
    const { wanted, findings } = analyzeTree(extract(name));
    expect(wanted).toBeGreaterThan(0);
    expect(findings).toEqual([]);
  });
});
