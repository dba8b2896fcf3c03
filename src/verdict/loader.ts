/**
 * Reads behaviour rule files (YAML: `lists`, `macros`, `rules`), validates every name, type and value, and compiles
 * the rules once. Lists and macros are global across the files of one load, as in Falco: a later file may use,
 * replace or append to what an earlier one defined. Errors are DataFileErrors naming file:line and what to fix.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { DataFileError, parseDataFile, type LoadedDataFile } from '../config/data-file.js';
import type { FindingCategory, Severity } from '../model/index.js';
import { checkMacro, compileCondition, CompileError, type CompileEnv, type MacroSource, type Predicate } from './compile.js';
import { KEYWORDS } from './expression.js';
import { compileTemplate, type Template } from './template.js';
import { CATEGORIES, EVENT_KINDS, SEVERITIES, type EventKind } from './types.js';
import { MAX_RULE_FILE_BYTES } from './limits.js';

const NAME = /^[a-z_][a-z0-9_]*$/;
const RULE_ID = /^[a-z0-9][a-z0-9.-]*$/;
const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

const scalar = z.union([z.string(), z.number()]);
const listSpec = z.union([
  z.array(scalar),
  z.strictObject({ items: z.array(scalar).optional(), file: z.string().min(1).optional(), append: z.boolean().optional() }),
]);
const citeSpec = z.strictObject({ on: z.enum(EVENT_KINDS), condition: z.string().min(1) });
const ruleSpec = z.strictObject({
  id: z.string().regex(RULE_ID, 'a rule id is lower-case letters, digits, dots and dashes, starting with a letter or digit'),
  description: z.string().min(1).optional(),
  on: z.enum(EVENT_KINDS).optional(),
  condition: z.string().min(1).optional(),
  category: z.enum(CATEGORIES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  attack: z.array(z.string().regex(ATTACK_ID, 'an ATT&CK technique id looks like T1059 or T1059.004')).optional(),
  title: z.string().min(1).optional(),
  summary: z.string().min(1).optional(),
  cites: z.union([citeSpec, z.array(citeSpec).min(1)]).optional(),
  enabled: z.boolean().optional(),
});
const fileSpec = z
  .strictObject({
    lists: z.record(z.string().regex(NAME, 'a list name is lower-case letters, digits and _'), listSpec).optional(),
    macros: z.record(z.string().regex(NAME, 'a macro name is lower-case letters, digits and _'), z.string().min(1)).optional(),
    rules: z.array(ruleSpec).optional(),
  })
  .nullable();

type FileSpec = z.infer<typeof fileSpec>;
type RuleSpec = z.infer<typeof ruleSpec>;

export interface CompiledCite {
  on: EventKind;
  test: Predicate;
}

export interface CompiledRule {
  id: string;
  description: string;
  kind: EventKind;
  category: FindingCategory;
  severity: Severity;
  attack: string[];
  enabled: boolean;
  test: Predicate;
  title: Template;
  /** The condition reads run.* fields: what it finds rests on the run (a `finding` rule's finding is then dynamic). */
  readsRun: boolean;
  /** How the finding reads in the verdict's summary sentence (else its title). */
  summary?: Template;
  cites: CompiledCite[];
  /** `file:line` of its definition. */
  where: string;
}

export interface CompiledRuleSet {
  rules: CompiledRule[];
  digest: string;
  files: string[];
}

const REQUIRED: (keyof RuleSpec)[] = ['description', 'on', 'condition', 'category', 'severity', 'title'];

/** The `.yaml`/`.yml` files of `dir`, sorted by name (a rule directory's load order). */
export function ruleFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new DataFileError(`${dir}: cannot read the rule directory: ${(err as Error).message}`);
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

function readText(file: string, where: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_RULE_FILE_BYTES) throw new Error(`larger than ${MAX_RULE_FILE_BYTES} bytes`);
    return text;
  } catch (err) {
    throw new DataFileError(`${where}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function listFileEntries(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line && !line.startsWith('#')) out.push(line);
  }
  return out;
}

export function compileRuleFiles(files: readonly string[]): CompiledRuleSet {
  const hash = createHash('sha256');
  const loaded: { file: string; doc: LoadedDataFile<FileSpec> }[] = [];
  for (const file of files) {
    const text = readText(file, file);
    hash.update(`${text.length}\0${text}\0`);
    loaded.push({ file, doc: parseDataFile(file, text, fileSpec) });
  }
  const at = (doc: LoadedDataFile<FileSpec>, path: (string | number)[]): string => {
    const line = doc.lineOf(path);
    return `${doc.file}${line ? `:${line}` : ''}`;
  };

  const lists = new Map<string, string[]>();
  const listWhere = new Map<string, string>();
  const macros = new Map<string, MacroSource>();
  for (const { file, doc } of loaded) {
    for (const [name, spec] of Object.entries(doc.data?.lists ?? {})) {
      const where = at(doc, ['lists', name]);
      if (KEYWORDS.has(name)) throw new DataFileError(`${where}: '${name}' is a keyword and cannot name a list`);
      let items: string[];
      let append = false;
      if (Array.isArray(spec)) items = spec.map(String);
      else {
        items = (spec.items ?? []).map(String);
        if (spec.file !== undefined) {
          const listFile = resolve(dirname(file), spec.file);
          const text = readText(listFile, where);
          hash.update(`${text.length}\0${text}\0`);
          items.push(...listFileEntries(text));
        }
        append = spec.append === true;
        if (spec.items === undefined && spec.file === undefined) throw new DataFileError(`${where}: list ${name} needs \`items\` or \`file\``);
      }
      if (append) {
        const existing = lists.get(name);
        if (!existing) throw new DataFileError(`${where}: list ${name} has \`append: true\` but no earlier file defines it`);
        lists.set(name, [...existing, ...items]);
      } else lists.set(name, items);
      listWhere.set(name, where);
    }
    for (const [name, condition] of Object.entries(doc.data?.macros ?? {})) {
      const where = at(doc, ['macros', name]);
      if (KEYWORDS.has(name)) throw new DataFileError(`${where}: '${name}' is a keyword and cannot name a macro`);
      macros.set(name, { condition, where });
    }
  }
  for (const name of macros.keys()) {
    if (lists.has(name)) throw new DataFileError(`${macros.get(name)!.where}: ${name} is both a macro and a list (defined at ${listWhere.get(name)}); rename one`);
  }
  const env: CompileEnv = { lists, macros };
  const explain = (err: unknown, where: string, what: string, text: string): never => {
    if (err instanceof CompileError) {
      if (err.macro) {
        const macro = macros.get(err.macro)!;
        throw new DataFileError(`${macro.where}: macro ${err.macro}: ${err.message}${near(macro.condition, err.pos)}${what === `macro ${err.macro}` ? '' : ` (used by ${what} at ${where})`}`);
      }
      throw new DataFileError(`${where}: ${what}: ${err.message}${near(text, err.pos)}`);
    }
    if (err instanceof Error && !(err instanceof DataFileError)) throw new DataFileError(`${where}: ${what}: ${err.message}`);
    throw err;
  };
  for (const name of macros.keys()) {
    try {
      checkMacro(name, env);
    } catch (err) {
      explain(err, macros.get(name)!.where, `macro ${name}`, macros.get(name)!.condition);
    }
  }

  const rules: CompiledRule[] = [];
  const byId = new Map<string, CompiledRule>();
  for (const { doc } of loaded) {
    (doc.data?.rules ?? []).forEach((spec, i) => {
      const where = at(doc, ['rules', i]);
      const keys = Object.keys(spec).filter((k) => spec[k as keyof RuleSpec] !== undefined);
      const toggle = spec.enabled !== undefined && keys.every((k) => k === 'id' || k === 'enabled');
      if (toggle) {
        const earlier = byId.get(spec.id);
        if (!earlier) throw new DataFileError(`${where}: rule ${spec.id}: no earlier rule has this id (an entry with only \`id\` and \`enabled\` turns an earlier rule off or on)`);
        earlier.enabled = spec.enabled === true;
        return;
      }
      const earlier = byId.get(spec.id);
      if (earlier) throw new DataFileError(`${where}: rule ${spec.id}: duplicate id (first defined at ${earlier.where}); give it another id, or disable the first with {id: ${spec.id}, enabled: false}`);
      const missing = REQUIRED.filter((k) => spec[k] === undefined);
      if (missing.length > 0) throw new DataFileError(`${where}: rule ${spec.id}: missing ${missing.join(', ')}`);
      const kind = spec.on!;
      const conditionWhere = at(doc, ['rules', i, 'condition']);
      let test: Predicate;
      const fieldsUsed = new Set<string>();
      try {
        test = compileCondition(spec.condition!, kind, { ...env, fieldsUsed });
      } catch (err) {
        return explain(err, conditionWhere, `rule ${spec.id}: condition`, spec.condition!);
      }
      let title: Template;
      try {
        title = compileTemplate(spec.title!, kind);
      } catch (err) {
        return explain(err, at(doc, ['rules', i, 'title']), `rule ${spec.id}: title`, spec.title!);
      }
      let summary: Template | undefined;
      if (spec.summary !== undefined) {
        try {
          summary = compileTemplate(spec.summary, kind);
        } catch (err) {
          return explain(err, at(doc, ['rules', i, 'summary']), `rule ${spec.id}: summary`, spec.summary);
        }
      }
      const citeSpecs = spec.cites === undefined ? [] : Array.isArray(spec.cites) ? spec.cites : [spec.cites];
      if (citeSpecs.length > 0 && kind !== 'run') throw new DataFileError(`${at(doc, ['rules', i, 'cites'])}: rule ${spec.id}: \`cites\` is for \`on: run\` rules (other rules cite the events they matched)`);
      const cites = citeSpecs.map((c, j) => {
        const path = Array.isArray(spec.cites) ? ['rules', i, 'cites', j, 'condition'] : ['rules', i, 'cites', 'condition'];
        try {
          return { on: c.on, test: compileCondition(c.condition, c.on, env) };
        } catch (err) {
          return explain(err, at(doc, path), `rule ${spec.id}: cites`, c.condition);
        }
      });
      const rule: CompiledRule = {
        id: spec.id,
        description: spec.description!,
        kind,
        category: spec.category!,
        severity: spec.severity!,
        attack: spec.attack ?? [],
        enabled: spec.enabled ?? true,
        test,
        title,
        readsRun: [...fieldsUsed].some((f) => f.startsWith('run.')),
        ...(summary ? { summary } : {}),
        cites,
        where,
      };
      byId.set(spec.id, rule);
      rules.push(rule);
    });
  }
  return { rules, digest: hash.digest('hex').slice(0, 16), files: [...files] };
}

function near(text: string, pos: number): string {
  if (pos < 0 || pos >= text.length) return '';
  return ` (at '${text.slice(pos, pos + 40).split('\n')[0]}')`;
}
