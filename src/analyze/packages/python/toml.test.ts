import { describe, expect, it } from 'vitest';
import { TomlError, parseToml } from './toml.js';
import { MAX_TOML_NESTING } from '../../limits.js';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('the lock-file TOML reader', () => {
  it('reads tables, arrays of tables with sub-tables, dotted and quoted keys', () => {
    const doc = parseToml(`
title = "locks" # trailing comment
a.b.c = 1
"quoted key" = 'literal \\n stays'

[[package]]
name = "one"
[package.dependencies]
dep = ">=1"

[[package]]
name = "two"
[[package.wheels]]
url = "w1"
[[package.wheels]]
url = "w2"

[metadata]
"files" = { "one 1.0" = [] }
`);
    expect(plain(doc)).toEqual({
      title: 'locks',
      a: { b: { c: 1 } },
      'quoted key': 'literal \\n stays',
      package: [
        { name: 'one', dependencies: { dep: '>=1' } },
        { name: 'two', wheels: [{ url: 'w1' }, { url: 'w2' }] },
      ],
      metadata: { files: { 'one 1.0': [] } },
    });
  });

  it('reads every string form and escape', () => {
    const doc = parseToml([
      'basic = "tab\\tquote\\"u\\u00e9U\\U0001F600"',
      'ml = """',
      'first',
      'second \\',
      '   joined"""',
      "lit = '''",
      'raw \\n [[package]]',
      "'''",
      'quotes = """two ""inside"" and at end"""""',
    ].join('\n'));
    expect(doc.basic).toBe('tab\tquote"u\u00e9U\u{1F600}');
    expect(doc.ml).toBe('first\nsecond joined');
    expect(doc.lit).toBe('raw \\n [[package]]\n');
    expect(doc.quotes).toBe('two ""inside"" and at end""');
  });

  it('reads multi-line arrays with comments and trailing commas, inline tables, numbers and booleans', () => {
    const doc = parseToml('files = [\n  {url = "a", size = 1_000}, # first\n  {url = "b", hash = "sha256:x"},\n]\nok = true\nno = false\npi = 3.14\nwhen = 1979-05-27T07:32:00Z\nlocal = 1979-05-27 07:32:00\n');
    expect(plain(doc)).toEqual({
      files: [{ url: 'a', size: 1000 }, { url: 'b', hash: 'sha256:x' }],
      ok: true,
      no: false,
      pi: 3.14,
      when: '1979-05-27T07:32:00Z',
      local: '1979-05-27 07:32:00',
    });
  });

  it('keeps hostile keys as plain data', () => {
    const doc = parseToml('__proto__ = "x"\n[constructor]\nprototype = 1\n');
    expect(Object.keys(doc)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).prototype).toBeUndefined();
  });

  it('reports syntax errors with their line', () => {
    expect(() => parseToml('a = 1\nb = "unclosed\n')).toThrow(new TomlError('newline in a single-line string', 2));
    expect(() => parseToml('a = [1, 2\n')).toThrow(/unclosed array/);
    expect(() => parseToml('[a\n')).toThrow(/unclosed table header/);
    expect(() => parseToml('a = 1 b = 2\n')).toThrow(/after value/);
    expect(() => parseToml('a = 1\n[a]\n')).toThrow(/a is not a table/);
  });

  it(`refuses nesting deeper than ${MAX_TOML_NESTING}`, () => {
    expect(() => parseToml(`x = ${'['.repeat(MAX_TOML_NESTING)}${']'.repeat(MAX_TOML_NESTING)}`)).not.toThrow();
    expect(() => parseToml(`x = ${'['.repeat(MAX_TOML_NESTING + 2)}${']'.repeat(MAX_TOML_NESTING + 2)}`)).toThrow(/nested too deeply/);
  });
});
