import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFileError, loadVerdictRules, loadVerdictRulesSync } from '../../src/verdict/index.js';
import { detonation, proc } from './behavior.js';

const root = mkdtempSync(join(tmpdir(), 'detonate-verdict-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A rule directory holding `files` (name → YAML text). */
function ruleDir(files: Record<string, string>): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const RULE = (over: Record<string, string> = {}): string => {
  const fields = {
    id: 'test.rule',
    description: 'A test rule.',
    on: 'process',
    condition: 'proc.name = sh',
    category: 'suspicious',
    severity: 'low',
    title: '"sh: {proc.cmdline}"',
    ...over,
  };
  return `rules:\n  - ${Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n    ')}\n`;
};

function loadError(files: Record<string, string>): string {
  const dir = ruleDir(files);
  try {
    loadVerdictRulesSync({ bundled: false, dirs: [dir] });
  } catch (err) {
    expect(err).toBeInstanceOf(DataFileError);
    return (err as Error).message.replaceAll(dir + '/', '');
  }
  throw new Error('loaded');
}

describe('rule files: load errors name file:line and what to fix', () => {
  it.each([
    ['an unknown field', RULE({ condition: 'proc.nam = sh' }), /^a\.yaml:5: rule test\.rule: condition: unknown field proc\.nam \(did you mean proc\.name\?\) \(at 'proc\.nam = sh'\)$/],
    ['a field of another kind', RULE({ condition: 'file.path = /x' }), /^a\.yaml:5: .*field file\.path belongs to `on: file` rules; this rule is `on: process`/],
    ['a numeric comparison on a string', RULE({ condition: 'proc.exe >= 3' }), /^a\.yaml:5: .*'>=' compares numbers; proc\.exe is a string/],
    ['an unknown list', RULE({ condition: 'proc.name in (shells_list)' }), /^a\.yaml:5: .*unknown list shells_list/],
    ['an unknown macro', RULE({ condition: 'is_shell' }), /^a\.yaml:5: .*unknown macro is_shell/],
    ['a bad category', RULE({ category: 'evil' }), /^a\.yaml:6: invalid at rules\.0\.category: /],
    ['a bad severity', RULE({ severity: 'severe' }), /^a\.yaml:7: invalid at rules\.0\.severity: /],
    ['a bad ATT&CK id', RULE({ attack: '[T1059.4]' }), /^a\.yaml:9: invalid at rules\.0\.attack\.0: an ATT&CK technique id looks like T1059 or T1059\.004/],
    ['a bad rule id', RULE({ id: 'Test_Rule' }), /^a\.yaml:2: invalid at rules\.0\.id: a rule id is lower-case/],
    ['an unknown `on`', RULE({ on: 'syscall' }), /^a\.yaml:4: invalid at rules\.0\.on/],
    ['an unknown key', RULE({ priority: 'high' }), /^a\.yaml:2: invalid at rules\.0: .*priority/],
    ['a missing key', 'rules:\n  - id: x.y\n    on: process\n', /^a\.yaml:2: rule x\.y: missing description, condition, category, severity, title$/],
    ['a template field that does not exist', RULE({ title: '"{proc.nope}"' }), /^a\.yaml:8: rule test\.rule: title: unknown field proc\.nope/],
    ['an unsafe regex', RULE({ condition: `proc.cmdline regex "(x+)+y"` }), /^a\.yaml:5: .*refused: a repeated group contains a repetition/],
    ['`cites` on a non-run rule', RULE({ cites: '{on: dns, condition: dns.name = x}' }), /^a\.yaml:9: .*`cites` is for `on: run` rules/],
    ['a bad cites condition', RULE({ on: 'run', condition: 'run.stratum', title: 'x', cites: '[{on: dns, condition: "dns.nam = x"}]' }), /^a\.yaml:9: rule test\.rule: cites: unknown field dns\.nam/],
    ['a list file that is missing', 'lists:\n  pools: {file: nowhere.txt}\n', /^a\.yaml:2: cannot read .*nowhere\.txt/],
    ['an append to no list', 'lists:\n  pools: {items: [a], append: true}\n', /^a\.yaml:2: list pools has `append: true` but no earlier file defines it/],
    ['invalid YAML', 'rules:\n  - id: a\n   on: [\n', /^a\.yaml:\d+: not valid YAML/],
  ])('%s', (_what, text, message) => {
    expect(loadError({ 'a.yaml': text })).toMatch(message);
  });

  it('a bad macro is reported at the macro, also when no rule uses it', () => {
    const text = 'macros:\n  ok: proc.name = sh\n  broken: >\n    proc.name = sh and proc.pidd = 1\n';
    expect(loadError({ 'a.yaml': text })).toMatch(/^a\.yaml:3: macro broken: unknown field proc\.pidd \(did you mean proc\.pid\?\) \(at 'proc\.pidd = 1/);
  });

  it('a macro used from a rule of the wrong kind names the macro and the rule', () => {
    const text = `macros:\n  is_sh: proc.name = sh\n${RULE({ on: 'file', condition: 'is_sh', title: 'x' })}`;
    expect(loadError({ 'a.yaml': text })).toMatch(/^a\.yaml:2: macro is_sh: field proc\.name belongs to `on: process` rules; this rule is `on: file`.* \(used by rule test\.rule: condition at a\.yaml:7\)$/);
  });

  it('a duplicate id across files names both places; disabling with {id, enabled: false} is how to replace one', () => {
    expect(loadError({ 'a.yaml': RULE(), 'b.yaml': RULE() })).toMatch(/^b\.yaml:2: rule test\.rule: duplicate id \(first defined at .*a\.yaml:2\)/);
    expect(loadError({ 'a.yaml': 'rules:\n  - {id: nope.rule, enabled: false}\n' })).toMatch(/^a\.yaml:2: rule nope\.rule: no earlier rule has this id/);
    expect(loadError({ 'a.yaml': 'lists:\n  dup: [a]\nmacros:\n  dup: proc.name = a\n' })).toMatch(/^a\.yaml:4: dup is both a macro and a list/);
  });
});

describe('rule files: loading', () => {
  it('users extend the shipped rules: later files use earlier lists and macros, append to lists, and disable rules', async () => {
    const dir = ruleDir({
      'local.yaml': [
        'lists:',
        '  pool_domains: {items: [pool.example.test], append: true}',
        '  my_tools: {file: tools.txt}',
        'rules:',
        '  - {id: behavior.cryptominer.miner-process, enabled: false}',
        '  - id: local.my-tool',
        '    description: Runs one of our banned tools.',
        '    on: process',
        '    condition: proc.name in (my_tools) and not proc.name in (shell_names)',
        '    category: hacking-tool',
        '    severity: moderate',
        '    title: "banned tool {proc.name}"',
        '',
      ].join('\n'),
      'tools.txt': '# one a line\nhydra\n\n  nmap  \n',
    });
    const rules = await loadVerdictRules({ dirs: [dir] });
    const r = detonation({
      processes: [proc(1, 0, ['nmap', '-sS', '192.0.2.0/24'], '/usr/bin/nmap', 0), proc(2, 1, ['xmrig'], '/usr/bin/xmrig')],
      dns: [{ name: 'eu.pool.example.test', type: 'A', pid: null }],
    });
    const ids = rules.evaluateBehavior(r).map((f) => f.rule);
    expect(ids).toEqual(['behavior.cryptominer.pool-dns', 'local.my-tool']);
    expect(rules.rules.find((x) => x.id === 'behavior.cryptominer.miner-process')).toMatchObject({ enabled: false });
    expect(rules.rules.find((x) => x.id === 'local.my-tool')).toMatchObject({ kind: 'process', category: 'hacking-tool', severity: 'moderate', where: expect.stringMatching(/local\.yaml:6$/) });
    const shipped = await loadVerdictRules();
    expect(rules.digest).not.toBe(shipped.digest);
    expect(await loadVerdictRules()).toBe(shipped); // the shipped set is loaded once
  });

  it('the digest follows edits of rule files and of the list files they read', () => {
    const dir = ruleDir({ 'a.yaml': 'lists:\n  l: {file: l.txt}\n' + RULE({ condition: 'proc.name in (l)' }), 'l.txt': 'a\n' });
    const first = loadVerdictRulesSync({ bundled: false, dirs: [dir] }).digest;
    expect(loadVerdictRulesSync({ bundled: false, dirs: [dir] }).digest).toBe(first);
    writeFileSync(join(dir, 'l.txt'), 'b\n');
    expect(loadVerdictRulesSync({ bundled: false, dirs: [dir] }).digest).not.toBe(first);
  });

  it('an empty rule file and a missing rule directory', () => {
    expect(loadVerdictRulesSync({ bundled: false, dirs: [ruleDir({ 'empty.yaml': '' })] }).rules).toEqual([]);
    expect(() => loadVerdictRulesSync({ bundled: false, dirs: [join(root, 'missing')] })).toThrow(/missing: cannot read the rule directory/);
  });
});
