import { describe, expect, it } from 'vitest';
import { compileCondition, CompileError } from './compile.js';
import { globToRegExp, unsafeRegexReason } from './patterns.js';
import type { EventKind, EventView, FieldValue } from './types.js';

const env = {
  lists: new Map<string, string[]>([
    ['shell_names', ['sh', 'bash']],
    ['pool_domains', ['example.test']],
  ]),
  macros: new Map([
    ['is_shell', { condition: 'proc.name in (shell_names)', where: 'x.yaml:3' }],
    ['loop_a', { condition: 'loop_b', where: 'x.yaml:4' }],
    ['loop_b', { condition: 'loop_a', where: 'x.yaml:5' }],
  ]),
};

const view = (kind: EventKind, values: Record<string, FieldValue>): EventView => ({ kind, values, cite: {} });
const run = view('run', { 'run.cpu_busy': 0.75, 'run.stratum': false, 'run.dns_names': ['a.example.test'] });
const shell = view('process', {
  'proc.name': 'bash',
  'proc.pid': 12,
  'proc.argv': ['bash', '-i'],
  'proc.args': ['-i'],
  'proc.cmdline': 'bash -i',
  'proc.exe': '/usr/bin/bash',
  'proc.connected': true,
  'proc.exe_written_by': [],
});
const holds = (condition: string, event: EventView = shell): boolean => compileCondition(condition, event.kind, env)(event, run);
const error = (condition: string, kind: EventKind = 'process'): string => {
  try {
    compileCondition(condition, kind, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CompileError);
    return (err as Error).message;
  }
  throw new Error(`compiled: ${condition}`);
};

describe('condition language', () => {
  it('compares, with and/or/not and parentheses, and reads run.* fields from any kind', () => {
    expect(holds('proc.name = bash and proc.pid > 10')).toBe(true);
    expect(holds('proc.name = bash and not proc.pid > 10')).toBe(false);
    expect(holds('(proc.name = sh or proc.name = "bash") and run.cpu_busy >= 0.5')).toBe(true);
    expect(holds('proc.pid != 12 or proc.pid <= 11')).toBe(false);
    expect(holds('proc.connected and is_shell')).toBe(true);
    expect(holds('proc.connected = false')).toBe(false);
    expect(holds('run.stratum or run.dns_names domain_in (pool_domains)')).toBe(true);
  });

  it('list fields match when any element does; != on a list means none equals; empty lists are false', () => {
    expect(holds('proc.argv = -i')).toBe(true);
    expect(holds('proc.argv != -i')).toBe(false);
    expect(holds('proc.argv != -x')).toBe(true);
    expect(holds('proc.exe_written_by')).toBe(false);
    expect(holds('proc.args startswith ("--", "-")')).toBe(true);
  });

  it('string operators: contains, icontains, startswith, endswith, glob, regex, domain_in, in (with lists)', () => {
    expect(holds('proc.cmdline contains "sh -"')).toBe(true);
    expect(holds('proc.exe icontains BIN/BASH')).toBe(true);
    expect(holds('proc.exe contains BIN/BASH')).toBe(false);
    expect(holds('proc.exe endswith /bash and proc.exe startswith /usr/')).toBe(true);
    expect(holds('proc.exe glob "/usr/*/bash"')).toBe(true);
    expect(holds('proc.exe glob "/*/bash"')).toBe(false);
    expect(holds('proc.exe glob "/**/bash"')).toBe(true);
    expect(holds('proc.exe glob ("/opt/**", "**/ba?h")')).toBe(true);
    expect(holds("proc.cmdline regex '^bash -[a-z]$'")).toBe(true);
    expect(holds('proc.name in (zsh, shell_names)')).toBe(true);
    const dns = (name: string) => view('dns', { 'dns.name': name, 'dns.type': 'A' });
    expect(holds('dns.name domain_in (pool_domains)', dns('Pool.Example.TEST.'))).toBe(true);
    expect(holds('dns.name domain_in (pool_domains)', dns('example.test'))).toBe(true);
    expect(holds('dns.name domain_in (pool_domains)', dns('notexample.test'))).toBe(false);
  });

  it('quoted strings keep backslashes as written, except before their own quote', () => {
    const p = view('process', { 'proc.cmdline': 'a "b" c\\d' });
    expect(holds('proc.cmdline contains "\\"b\\""', p)).toBe(true);
    expect(holds("proc.cmdline regex 'c\\\\d'", p)).toBe(true);
    expect(holds("proc.cmdline regex 'c\\d'", p)).toBe(false);
  });

  it('an unknown value is false under every comparison', () => {
    const f = view('file', { 'file.mode': null });
    expect(holds('file.mode = 0', f)).toBe(false);
    expect(holds('file.mode != 0', f)).toBe(false);
    expect(holds('not file.mode >= 0', f)).toBe(true);
  });

  it('rejects what would be wrong at run time, at compile time', () => {
    expect(error('proc.nme = x')).toMatch(/unknown field proc.nme \(did you mean proc.name\?\)/);
    expect(error('conn.port = 80')).toMatch(/field conn.port belongs to `on: connection` rules; this rule is `on: process`/);
    expect(error('proc.name > 3')).toMatch(/'>' compares numbers; proc.name is a string/);
    expect(error('proc.pid contains 3')).toMatch(/needs a string field/);
    expect(error('proc.pid = abc')).toMatch(/proc.pid is a number; 'abc' is not/);
    expect(error('proc.connected = yes')).toMatch(/true or false/);
    expect(error('proc.name in (shell_nmes)')).toMatch(/unknown list shell_nmes/);
    expect(error('is_shel')).toMatch(/unknown macro is_shel/);
    expect(error('loop_a')).toMatch(/refers to itself \(loop_a → loop_b → loop_a\)/);
    expect(error('shell_names')).toMatch(/is a list/);
    expect(error('proc.name glob shell_names')).toMatch(/write \(shell_names\)/);
    expect(error('proc.name in sh')).toMatch(/parenthesised list/);
    expect(error('proc.name = (a, b)')).toMatch(/takes one value/);
    expect(error('proc.name = a proc.pid = 1')).toMatch(/unexpected 'proc.pid'/);
    expect(error('(proc.name = a')).toMatch(/expected '\)'/);
    expect(error('proc.name = "a')).toMatch(/unterminated/);
    expect(error('!proc.connected')).toMatch(/write `not`/);
    expect(error('')).toMatch(/empty condition/);
    expect(error('proc.cmdline regex "(a+)+$"')).toMatch(/nested quantifiers/);
    expect(error('proc.cmdline regex "(a|ab)*c"')).toMatch(/alternation/);
    expect(error('proc.cmdline regex "(a)\\1"')).toMatch(/backreferences/);
    expect(error('proc.cmdline regex "[a-"')).toMatch(/does not compile/);
    expect(error('run.cpu_busy > 1 and proc.pid = 1', 'run')).toMatch(/belongs to `on: process` rules/);
    expect(error('('.repeat(500) + 'proc.connected' + ')'.repeat(500))).toMatch(/nested too deeply/);
  });
});

describe('patterns', () => {
  it('globs: * stays in a segment, ** crosses them (and may be empty before a slash), ? is one character', () => {
    expect(globToRegExp('/etc/cron.*/**').test('/etc/cron.d/a/b')).toBe(true);
    expect(globToRegExp('/etc/cron.*/**').test('/etc/cron.d')).toBe(false);
    expect(globToRegExp('**/.bash_history').test('/root/.bash_history')).toBe(true);
    expect(globToRegExp('**/.bash_history').test('.bash_history')).toBe(true);
    expect(globToRegExp('/var/log/**').test('/var/log/a\nb')).toBe(true);
    expect(globToRegExp('/etc/rc?.d/**').test('/etc/rc3.d/S01x')).toBe(true);
    expect(globToRegExp('/a.b+(c)').test('/a.b+(c)')).toBe(true);
    expect(globToRegExp('/a.b').test('/axb')).toBe(false);
  });

  it('regex safety: optional groups and plain quantifiers pass; nested repetition does not', () => {
    expect(unsafeRegexReason('^--(sh-|lua-)?exec')).toBeUndefined();
    expect(unsafeRegexReason('(^| )(-a|--algo)[ =](randomx|rx/0)( |$)')).toBeUndefined();
    expect(unsafeRegexReason('^-[a-zA-Z]*[ec]$')).toBeUndefined();
    expect(unsafeRegexReason('(?:a*)*')).toBeDefined();
    expect(unsafeRegexReason('((a+)?)+')).toBeDefined();
    expect(unsafeRegexReason('(a{1,5}){2,}')).toBeDefined();
    expect(unsafeRegexReason('(\\w+\\s?)*$')).toBeDefined();
  });

  it('a refused-pattern-free regex stays fast on long hostile input', () => {
    const p = view('process', { 'proc.cmdline': 'a'.repeat(1_000_000) + '!' });
    const start = performance.now();
    expect(holds('proc.cmdline regex "^a*b"', p)).toBe(false);
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});
