import { describe, expect, it } from 'vitest';
import type { Package } from '../../../model/index.js';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { dpkgAnalyzer } from '../../packages/dpkg/index.js';
import { imageFacts } from '../../../../test/support/image-facts.js';
import { DataFileError } from '../../../config/data-file.js';
import { hackingToolPackageIndex, hackingToolPackages, normalisePackageName, parseHackingToolPackages } from './packages.js';

function pkg(type: Package['type'], name: string, extra: Partial<Package> = {}): Package {
  return { type, name, version: '1.0', purl: `pkg:${type}/${name}@1.0`, layer: 1, paths: [`db/${type}`], ...extra };
}

describe('hacking-tool packages', () => {
  it('reports attack tools installed by the OS package manager, from a real dpkg status file', async () => {
    const paragraph = (name: string, version: string) =>
      `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nDescription: x\n`;
    const status = [paragraph('nmap', '7.93+dfsg1-1'), paragraph('hydra', '9.4-1'), paragraph('socat', '1.7.4.4-2'), paragraph('libc6', '2.36-9'),
      paragraph('python3-impacket', '0.10.0-4')].join('\n');
    const { packages } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: status }]);
    const findings = hackingToolPackages.check(imageFacts({ packages })).findings!;
    expect(findings.map((f) => [f.title, f.severity, f.attack])).toEqual([
      ['THC-Hydra installed (deb package hydra 9.4-1)', 'moderate', ['T1110']],
      ['Nmap installed (deb package nmap 7.93+dfsg1-1)', 'moderate', ['T1046']],
      ['Impacket installed (deb package python3-impacket 0.10.0-4)', 'high', ['T1003']],
      ['socat installed (deb package socat 1.7.4.4-2)', 'low', ['T1095']],
    ]);
    expect(findings[1]).toMatchObject({
      category: 'hacking-tool',
      rule: 'hacking-tool/package',
      source: 'static',
      path: 'var/lib/dpkg/status',
      layer: 0,
      evidence: { tool: 'Nmap', role: 'scanner', package: 'nmap', version: '7.93+dfsg1-1', type: 'deb' },
    });
    expect((findings[1]!.evidence as { purl: string }).purl).toMatch(/^pkg:deb\/.*nmap@7\.93/);
  });

  it('matches each ecosystem by its own name rules', () => {
    const findings = hackingToolPackages.check(imageFacts({ packages: [
      pkg('pypi', 'Impacket'),
      pkg('pypi', 'pwn_tools'.replace('_', '')),
      pkg('apk', 'masscan', { layer: 3, paths: ['lib/apk/db/installed'] }),
      pkg('rpm', 'nmap-ncat'),
      pkg('golang', 'github.com/jpillora/chisel', { metadata: { mainModule: true } }),
      pkg('golang', 'github.com/OJ/gobuster/v3', { metadata: { mainModule: true } }),
      pkg('gem', 'metasploit-framework'),
    ] })).findings!;
    expect(findings.map((f) => [(f.evidence as { tool: string }).tool, f.severity, f.layer])).toEqual([
      ['Impacket', 'high', 1],
      ['pwntools', 'high', 1],
      ['masscan', 'moderate', 3],
      ['Ncat', 'low', 1],
      ['chisel', 'moderate', 1],
      ['gobuster', 'moderate', 1],
      ['Metasploit Framework', 'high', 1],
    ]);
    expect(findings[2]!.path).toBe('lib/apk/db/installed');
  });

  it('does not report look-alikes: other ecosystems, libraries, Go dependencies', () => {
    expect(hackingToolPackages.check(imageFacts({ packages: [
      pkg('npm', 'nmap'),
      pkg('pypi', 'python-nmap'),
      pkg('deb', 'libpcap0.8'),
      pkg('deb', 'nmap-common'),
      pkg('golang', 'github.com/jpillora/chisel'),
      pkg('golang', 'github.com/fatedier/frp', { metadata: { mainModule: false } }),
      pkg('deb', 'john-data'),
    ] })).findings).toEqual([]);
  });

  it('names ecosystems the way they compare names', () => {
    expect(normalisePackageName('pypi', 'Py_Kat.z')).toBe('py-kat-z');
    expect(normalisePackageName('golang', 'github.com/x/y/v12')).toBe('github.com/x/y');
    expect(normalisePackageName('npm', 'Foo')).toBe('Foo');
  });

  it('ships a list that loads, and names the line of a bad entry', () => {
    expect(hackingToolPackageIndex().byPackage.size).toBeGreaterThan(80);
    const text = 'version: 1\nroles:\n  scanner: { severity: moderate, attack: [T1046] }\ntools:\n  - { tool: X, role: nope, packages: { deb: [x] } }\n';
    expect(() => parseHackingToolPackages('h.yaml', text)).toThrow(/h\.yaml:5: tool X has an unknown role nope/);
    expect(() => parseHackingToolPackages('h.yaml', text.replace('deb:', 'debian:'))).toThrow(DataFileError);
  });
});
