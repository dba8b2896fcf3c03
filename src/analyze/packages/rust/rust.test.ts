import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { buildElf, buildMachO, buildPe } from '../../../../test/support/binary-builders.js';
import { rustAuditAnalyzer } from './index.js';
import { AuditDataError, inflateAuditData, parseAuditJson } from './parse.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`testdata/${name}`, import.meta.url)));
const code = { name: '.text', data: Buffer.alloc(2048, 0x90), flags: 0x6 };

function audit(packages: unknown[]): Buffer {
  return deflateSync(JSON.stringify({ packages }));
}

const SMALL = audit([
  { name: 'app', version: '1.2.0', source: 'local', dependencies: [1], root: true },
  { name: 'smallvec', version: '1.11.0', source: 'crates.io' },
  { name: 'proc-macro2', version: '1.0.69', source: 'crates.io', kind: 'build' },
]);

async function run(content: Buffer, path = 'usr/local/bin/app') {
  return analyzeFiles([rustAuditAnalyzer], [{ path, content, mode: 0o755 }]);
}

describe('cargo-auditable binaries', () => {
  it('lists the crates compiled into a real ELF with a .dep-v0 section, leaving build-time ones out', async () => {
    const { packages, notices } = await run(fixture('hello-audit.elf'));
    expect(notices).toEqual([]);
    const json = JSON.parse(readFileSync(fileURLToPath(new URL('testdata/audit.json', import.meta.url)), 'utf8')) as { packages: { name: string; version: string; kind?: string }[] };
    const runtime = json.packages.filter((p) => p.kind !== 'build').map((p) => `${p.name}@${p.version}`).sort();
    expect(packages.map((p) => `${p.name}@${p.version}`)).toEqual(runtime);
    expect(packages.map((p) => p.name)).not.toContain('cc');
    expect(packages.find((p) => p.name === 'serde_json')).toMatchObject({ type: 'cargo', purl: 'pkg:cargo/serde_json@1.0.107', paths: ['usr/local/bin/app'], metadata: { source: 'crates.io' } });
    expect(packages.find((p) => p.name === 'hello-audit')?.metadata).toEqual({ source: 'local', root: true });
    expect(packages.find((p) => p.name === 'tiny_http')?.metadata).toEqual({ source: 'git' });
  });

  it('finds the section in PE (.dep-v0) and Mach-O (__DATA,__dep_v0) programs', async () => {
    const pe = buildPe({ sections: [{ name: '.text', data: Buffer.alloc(2048), virtualAddress: 0x1000, characteristics: 0x60000020 }, { name: '.dep-v0', data: SMALL, virtualAddress: 0x4000, characteristics: 0x40000040 }] });
    const macho = buildMachO({ sections: [{ name: '__text', segment: '__TEXT', data: Buffer.alloc(2048), address: 0x1000 }, { name: '__dep_v0', segment: '__DATA', data: SMALL, address: 0x8000 }] });
    for (const content of [pe, macho]) {
      const { packages } = await run(content);
      expect(packages.map((p) => `${p.name}@${p.version}`)).toEqual(['app@1.2.0', 'smallvec@1.11.0']);
    }
  });

  it('ignores other programs, and Mach-O sections of that name outside __DATA', async () => {
    expect((await run(buildElf({ sections: [code] }))).packages).toEqual([]);
    const wrongSegment = buildMachO({ sections: [{ name: '__dep_v0', segment: '__TEXT', data: SMALL, address: 0x1000 }, { name: '__text', segment: '__TEXT', data: Buffer.alloc(2048), address: 0x2000 }] });
    expect((await run(wrongSegment)).packages).toEqual([]);
  });

  it('bounds the expanded size: a zlib bomb gives a notice, not 8 GiB', async () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const { packages, notices } = await run(buildElf({ sections: [code, { name: '.dep-v0', data: bomb }] }));
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/expands beyond/) })]);
    expect(() => inflateAuditData(bomb, 1024)).toThrow(AuditDataError);
  });

  it('reports corrupt sections: not zlib, not JSON, wrong shape, indices outside the list', async () => {
    for (const data of [Buffer.from('not zlib at all'), deflateSync('{"packages": [trunc'), deflateSync('{"pkgs": []}'), audit([{ name: 'a', version: '1', source: 'crates.io', dependencies: [5] }]), audit([{ name: '', version: '1' }])]) {
      const { packages, notices } = await run(buildElf({ sections: [code, { name: '.dep-v0', data }] }));
      expect(packages).toEqual([]);
      expect(notices).toHaveLength(1);
      expect(notices[0]?.message).toMatch(/cargo-auditable dependency data is unreadable/);
    }
  });

  it('reports a .dep-v0 section whose contents lie outside the file', async () => {
    const elf = buildElf({ sections: [code, { name: '.dep-v0', data: SMALL }] });
    const shoff = Number(elf.readBigUInt64LE(40));
    elf.writeBigUInt64LE(BigInt(elf.length + 100), shoff + 2 * 64 + 24);
    const { notices } = await run(elf);
    expect(notices[0]?.message).toMatch(/unreadable: .*outside|runs past/);
  });

  it('accepts the older {"Other": name} source form and defaults kind to runtime', () => {
    const data = parseAuditJson(JSON.stringify({ packages: [{ name: 'x', version: '0.1.0', source: { Other: 'my-registry' } }] }));
    expect(data.packages[0]).toMatchObject({ source: 'my-registry', kind: 'runtime', root: false, dependencies: [] });
  });
});
