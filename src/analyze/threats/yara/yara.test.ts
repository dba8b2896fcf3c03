import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { writeZip } from '../../../util/zip.js';
import type { CompiledRules, ScanVariables, YaraMatch } from './engine.js';
import { createYaraAnalyzer, describeSkippedRules, fileTypeOf, loadRules, scanVariables } from './index.js';
import { splitYaraSource, YaraSplitError } from './source.js';

const ENGINES = ['yara-x', 'yara'] as const;

const MAIN_RULES = `
import "math"
// a comment with rule Fake { condition: true } and "quotes
/* block comment } { */
rule Stratum_Pool : miner linux {
  meta:
    category = "cryptominer"
    severity = "critical"
    attack = "T1496, t1059.004"
    title = "Stratum mining pool URL"
    family = "XMRig"
    score = 80
    draft = false
  strings:
    $url = /stratum\\+tcp:\\/\\/[a-z0-9.\\-]{1,64}:\\d{2,5}/ nocase
    $hex = { 78 6D 72 69 67 ?? 36 2E [1] 2E } // xmrig-6.?.
    $esc = "brace } in \\"text\\""
  condition:
    $url or $hex or $esc
}

private rule IsElf { condition: uint32(0) == 0x464c457f }

rule Elf_With_Pool : hacktool {
  meta:
    description = "ELF program that names a mining pool"
  strings:
    $a = "pool.example.test"
  condition:
    IsElf and $a and filesize \\ 2 < 10MB and not (filepath matches /\\/proc\\//)
}

rule Plain_Marker {
  strings:
    $m = "DETONATE-TEST-MARKER"
  condition:
    #m >= 1 and math.entropy(0, filesize) >= 0
}
`;

// The same rule name as in MAIN_RULES: each file is its own namespace, so both compile and both report.
const OTHER_RULES = `
global rule Small { condition: filesize < 1MB }
rule Plain_Marker : webshell {
  strings:
    $m = "DETONATE-TEST-MARKER"
  condition:
    $m
}
`;

let dir: string;
const loaded = new Map<string, CompiledRules>();

function rulesFor(engine: (typeof ENGINES)[number]): CompiledRules {
  return loaded.get(engine)!;
}

function variables(path: string, content: Buffer): ScanVariables {
  return scanVariables(path, content, 0);
}

function normalise(matches: YaraMatch[]): unknown[] {
  return matches
    .map((m) => ({ ...m, tags: [...m.tags].sort(), strings: m.strings.map((s) => ({ ...s, data: s.data.toString('latin1') })).sort((a, b) => a.offset - b.offset || a.identifier.localeCompare(b.identifier)) }))
    .sort((a, b) => `${a.namespace}/${a.rule}`.localeCompare(`${b.namespace}/${b.rule}`));
}

const elfWithPool = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64), Buffer.from('connect stratum+tcp://pool.example.test:3333 xmrig-6.2. DETONATE-TEST-MARKER')]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detonate-yara-test-'));
  mkdirSync(join(dir, 'rules', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'rules', 'main.yar'), MAIN_RULES);
  writeFileSync(join(dir, 'rules', 'sub', 'other.yara'), OTHER_RULES);
  writeFileSync(join(dir, 'rules', 'README.txt'), 'not a rule file');
  for (const engine of ENGINES) loaded.set(engine, await loadRules({ bundled: false, dirs: [join(dir, 'rules')], engine }));
});

afterAll(async () => {
  for (const rules of loaded.values()) await rules.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('splitYaraSource', () => {
  it('finds rules, modifiers, tags, meta and condition identifiers past comments, strings, regexes and hex strings', () => {
    const parsed = splitYaraSource(MAIN_RULES);
    expect(parsed.imports.map((i) => i.module)).toEqual(['math']);
    expect(parsed.rules.map((r) => r.name)).toEqual(['Stratum_Pool', 'IsElf', 'Elf_With_Pool', 'Plain_Marker']);
    const stratum = parsed.rules[0]!;
    expect(stratum.tags).toEqual(['miner', 'linux']);
    expect(stratum.meta).toMatchObject({ category: 'cryptominer', score: 80, draft: false, family: 'XMRig' });
    expect(parsed.rules[1]!.isPrivate).toBe(true);
    expect(parsed.rules[2]!.identifiers.filter((i) => !i.member).map((i) => i.name)).toEqual(['IsElf', 'filepath']);
    expect(parsed.rules[3]!.identifiers.map((i) => [i.name, i.member])).toEqual([['math', true]]);
  });

  it('refuses what it cannot split, with the line', () => {
    expect(() => splitYaraSource('rule a {\n strings: $a = "open\n condition: $a }')).toThrow(YaraSplitError);
    expect(() => splitYaraSource('rule a { condition: true')).toThrow(/not closed/);
    expect(() => splitYaraSource('junk here')).toThrow(/line 1/);
  });
});

describe.each(ENGINES)('YARA engine %s', (engine) => {
  it('compiles every rule and scans, with namespaces per file', async () => {
    const rules = rulesFor(engine);
    expect(rules.engine).toBe(engine);
    expect(rules.ruleCount).toBe(6);
    expect(rules.skipped).toEqual([]);
    expect(rules.digest).toMatch(/^[0-9a-f]{64}$/);
    const matches = await rules.scan(elfWithPool, variables('usr/bin/kdevtmpfsi', elfWithPool));
    const names = matches.map((m) => `${m.namespace}:${m.rule}`).sort();
    expect(names).toEqual(['main.yar:Elf_With_Pool', 'main.yar:Plain_Marker', 'main.yar:Stratum_Pool', 'sub/other.yara:Plain_Marker']);
    const stratum = matches.find((m) => m.rule === 'Stratum_Pool')!;
    expect(stratum.tags).toEqual(['miner', 'linux']);
    expect(stratum.meta).toMatchObject({ category: 'cryptominer', severity: 'critical', score: 80, draft: false });
    const url = stratum.strings.find((s) => s.identifier === '$url')!;
    expect(url.data.toString()).toBe('stratum+tcp://pool.example.test:3333');
    expect(url.offset).toBe(elfWithPool.indexOf('stratum'));
    expect(stratum.strings.find((s) => s.identifier === '$hex')!.data.toString()).toBe('xmrig-6.2.');
  });

  it('keeps global rules to their own file', async () => {
    const big = Buffer.concat([Buffer.from('DETONATE-TEST-MARKER '), Buffer.alloc(2 * 1024 * 1024, 0x41)]);
    const matches = await rulesFor(engine).scan(big, variables('srv/big.txt', big));
    expect(matches.map((m) => `${m.namespace}:${m.rule}`)).toEqual(['main.yar:Plain_Marker']);
  });

  it('matches nothing in benign look-alikes, and survives random bytes and empty files', async () => {
    const rules = rulesFor(engine);
    const benign = Buffer.from('#!/bin/sh\necho "stratum is a layer of rock; pool example"\n');
    expect(await rules.scan(benign, variables('usr/bin/geo', benign))).toEqual([]);
    const random = randomBytes(1024 * 1024);
    await expect(rules.scan(random, variables('usr/bin/junk', random))).resolves.toBeInstanceOf(Array);
    expect(await rules.scan(Buffer.alloc(0), variables('etc/empty', Buffer.alloc(0)))).toEqual([]);
  });

  it('isolates failing rules one by one, with the rules that need them', async () => {
    const missingModule = engine === 'yara-x' ? 'magic' : 'string';
    const use = engine === 'yara-x' ? 'magic.mime_type() == "text/plain"' : 'string.length("x") == 1';
    const isolated = join(dir, `isolation-${engine}`);
    mkdirSync(isolated, { recursive: true });
    writeFileSync(
      join(isolated, 'mixed.yar'),
      `import "${missingModule}"
rule Good { strings: $a = "good-marker" condition: $a }
rule NeedsModule { condition: ${use} }
rule BadRegex { strings: $r = /ab(c/ condition: $r }
rule UsesBad { condition: BadRegex or filesize == 0 }
rule Good { condition: true }
`,
    );
    writeFileSync(join(isolated, 'broken.yar'), 'rule Unclosed { strings: $a = "x" condition: $a\n');
    const rules = await loadRules({ bundled: false, dirs: [isolated], engine });
    try {
      expect(rules.ruleCount).toBe(1);
      const byRule = Object.fromEntries(rules.skipped.map((s) => [s.rule ?? s.file.slice(s.file.lastIndexOf('/') + 1), s.reason]));
      expect(Object.keys(byRule).sort()).toEqual(['BadRegex', 'Good', 'NeedsModule', 'UsesBad', 'broken.yar']);
      expect(byRule.NeedsModule).toBe(`needs module "${missingModule}", which the ${engine} engine lacks`);
      expect(byRule.BadRegex).toMatch(/invalid regular expression/);
      expect(byRule.UsesBad).toBe('depends on rule "BadRegex", which was left out');
      expect(byRule.Good).toMatch(/duplicate rule "Good"/);
      expect(byRule['broken.yar']).toMatch(/cannot be split into rules \(line 1: rule Unclosed is not closed\)/);
      const content = Buffer.from('some good-marker here');
      expect((await rules.scan(content, variables('etc/x.conf', content))).map((m) => m.rule)).toEqual(['Good']);
      expect(describeSkippedRules(rules).some((l) => l.includes('YARA rule "BadRegex"') && l.includes('mixed.yar'))).toBe(true);
    } finally {
      await rules.close();
    }
  });

  it('scans many files at once, each getting its own matches', async () => {
    const rules = rulesFor(engine);
    const contents = Array.from({ length: 150 }, (_, i) => Buffer.from(i % 3 === 0 ? `file ${i} DETONATE-TEST-MARKER` : `file ${i} clean`));
    const results = await Promise.all(contents.map((c, i) => rules.scan(c, variables(`srv/f${i}.txt`, c))));
    results.forEach((matches, i) => {
      expect(matches.length > 0, `file ${i}`).toBe(i % 3 === 0);
      for (const m of matches) expect(m.strings[0]?.offset).toBe(contents[i]!.indexOf('DETONATE'));
    });
  });
});

describe('both engines', () => {
  it('give the same matches on the same rules and files', async () => {
    const files = [
      elfWithPool,
      Buffer.from('DETONATE-TEST-MARKER DETONATE-TEST-MARKER xmrig-1.. STRATUM+TCP://A.B:12345'),
      Buffer.from('brace } in "text"'),
      randomBytes(64 * 1024),
    ];
    for (const [i, content] of files.entries()) {
      const [x, y] = await Promise.all(ENGINES.map((e) => rulesFor(e).scan(content, variables(`srv/${i}`, content))));
      expect(normalise(y!), `file ${i}`).toEqual(normalise(x!));
    }
  });

  it('digests differ by engine and by rules', async () => {
    expect(rulesFor('yara-x').digest).not.toBe(rulesFor('yara').digest);
    const same = await loadRules({ bundled: false, dirs: [join(dir, 'rules')], engine: 'yara-x' });
    expect(same.digest).toBe(rulesFor('yara-x').digest);
  });
});

describe('external variables (YARA-X)', () => {
  it('are set per scan from the path and content', async () => {
    const varDir = join(dir, 'vars');
    mkdirSync(varDir, { recursive: true });
    writeFileSync(
      join(varDir, 'vars.yar'),
      `rule Named_Kdevtmpfsi { condition: filename == "kdevtmpfsi" and filepath == "/usr/bin/kdevtmpfsi" and filetype == "ELF" and owner == "root" }
rule Php_In_Uploads { condition: extension == ".php" and filepath contains "/uploads/" and filetype == "TEXT" }
`,
    );
    const rules = await loadRules({ bundled: false, dirs: [varDir], engine: 'yara-x' });
    const scanAt = async (path: string, content: Buffer): Promise<string[]> => (await rules.scan(content, variables(path, content))).map((m) => m.rule);
    const php = Buffer.from('<?php echo 1; ?>');
    const [a, b, c, d] = await Promise.all([
      scanAt('usr/bin/kdevtmpfsi', elfWithPool),
      scanAt('usr/bin/other', elfWithPool),
      scanAt('var/www/uploads/x.PHP', php),
      scanAt('var/www/x.php', php),
    ]);
    expect([a, b, c, d]).toEqual([['Named_Kdevtmpfsi'], [], ['Php_In_Uploads'], []]);
  });

  it('variables come from the path and magic bytes', () => {
    expect(scanVariables('usr/lib/x/Shell.PHP', Buffer.from('<?php'), 1000)).toEqual({ filename: 'Shell.PHP', filepath: '/usr/lib/x/Shell.PHP', extension: '.php', filetype: 'TEXT', owner: '1000' });
    expect(scanVariables('etc/.bashrc', Buffer.from('x')).extension).toBe('');
    expect([fileTypeOf(Buffer.from('MZ\x90\x00')), fileTypeOf(Buffer.from('#!/bin/sh')), fileTypeOf(Buffer.from([0xcf, 0xfa, 0xed, 0xfe])), fileTypeOf(Buffer.from([1, 0, 2]))]).toEqual(['PE', 'SCRIPT', 'MACHO', 'DATA']);
  });
});

describe('createYaraAnalyzer', () => {
  it('turns matches into findings with category, severity, ATT&CK, title and evidence', async () => {
    const analyzer = createYaraAnalyzer(rulesFor('yara-x'));
    expect(analyzer.configKey).toBe(rulesFor('yara-x').digest);
    const { findings, notices } = await analyzeFiles([analyzer], [
      { path: 'usr/bin/kdevtmpfsi', content: elfWithPool, mode: 0o755 },
      { path: 'usr/share/doc/readme.txt', content: 'DETONATE-TEST-MARKER in a file no detector opens' },
      { path: 'etc/motd', content: 'welcome: stratum is a rock layer' },
    ]);
    expect(notices).toEqual([]);
    expect(findings.every((f) => f.path === 'usr/bin/kdevtmpfsi' && f.source === 'static')).toBe(true);
    const byRule = new Map(findings.map((f) => [f.rule, f]));
    expect([...byRule.keys()].sort()).toEqual(['yara/Elf_With_Pool', 'yara/Plain_Marker', 'yara/Stratum_Pool']);
    const stratum = byRule.get('yara/Stratum_Pool')!;
    expect(stratum).toMatchObject({ category: 'cryptominer', severity: 'critical', title: 'Stratum mining pool URL', attack: ['T1496', 'T1059.004'] });
    expect(stratum.evidence).toMatchObject({ engine: 'yara-x', namespace: 'main.yar', tags: ['miner', 'linux'], family: 'XMRig' });
    expect((stratum.evidence!.matches as { text: string; identifier: string }[]).some((m) => m.identifier === '$url' && m.text === 'stratum+tcp://pool.example.test:3333')).toBe(true);
    // No category meta: inferred from the tag; no severity meta: moderate; the description is the title.
    expect(byRule.get('yara/Elf_With_Pool')).toMatchObject({ category: 'hacking-tool', severity: 'moderate', title: 'ELF program that names a mining pool' });
    const plain = findings.filter((f) => f.rule === 'yara/Plain_Marker');
    expect(plain.map((f) => [(f.evidence as { namespace: string }).namespace, f.category]).sort()).toEqual([['main.yar', 'suspicious'], ['sub/other.yara', 'backdoor']]);
    expect(plain.every((f) => f.title === 'Plain_Marker' && f.severity === 'moderate')).toBe(true);
  });

  it('scans the members of small ZIP archives', async () => {
    const analyzer = createYaraAnalyzer(rulesFor('yara-x'));
    const zip = writeZip([
      { name: 'payload/miner.bin', data: elfWithPool },
      { name: 'notes.txt', data: 'nothing to see' },
    ]);
    const { findings } = await analyzeFiles([analyzer], [{ path: 'srv/app/drop.zip', content: zip }]);
    expect(new Set(findings.map((f) => f.path))).toEqual(new Set(['srv/app/drop.zip!payload/miner.bin']));
    expect(findings.some((f) => f.rule === 'yara/Stratum_Pool')).toBe(true);
  });

  it('makes a scan error a notice, not a throw', async () => {
    const failing: CompiledRules = { ...rulesFor('yara-x'), scan: () => Promise.reject(new Error('engine exploded')), close: () => Promise.resolve() };
    const { findings, notices } = await analyzeFiles([createYaraAnalyzer(failing)], [{ path: 'usr/bin/x', content: elfWithPool, mode: 0o755 }]);
    expect(findings).toEqual([]);
    expect(notices.map((n) => n.message)).toEqual(['YARA scan failed: engine exploded']);
  });

  it('wants programs, scripts, web pages, persistence and config files, not documentation', () => {
    const analyzer = createYaraAnalyzer(rulesFor('yara-x'));
    const header = (size: number, mode = 0o644) => ({ path: '', type: 'file' as const, size, mode });
    expect(analyzer.wants('usr/bin/ls', header(100, 0o755))).toBe(true);
    expect(analyzer.wants('var/www/html/index.php', header(100))).toBe(true);
    expect(analyzer.wants('etc/cron.d/job', header(100))).toBe(true);
    expect(analyzer.wants('srv/a.zip', header(100))).toBe(true);
    expect(analyzer.wants('srv/big.zip', header(64 * 1024 * 1024))).toBe(false);
    expect(analyzer.wants('usr/share/doc/readme.txt', header(100))).toBe(false);
    expect(analyzer.wants('root/.bash_history', header(100))).toBe(false);
  });
});
