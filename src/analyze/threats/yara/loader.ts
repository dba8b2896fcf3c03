import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { bundledRulesDir } from '../../../config/paths.js';
import type { CompiledRules, SkippedRule } from './engine.js';
import { EXTERNAL_VARIABLES, type AssembledRules, type EngineError, type RuleEngine, type RuleInfo } from './backend.js';
import { splitYaraSource, YaraSplitError, type RuleBlock } from './source.js';
import { loadYaraXBinding, YaraXEngine } from './yarax.js';
import { YaraCliEngine, yaraCliAvailable } from './yara-cli.js';
import { MAX_YARA_COMPILE_ROUNDS } from '../../limits.js';

export interface LoadRulesOptions {
  /** Include the rules Detonate ships (`rules/yara/`). Default true. */
  bundled?: boolean;
  /** Extra rule directories (searched recursively for `*.yar`/`*.yara`) or single rule files. */
  dirs?: string[];
  /** `auto` (default): YARA-X when the binding loads, else the `yara` CLI. */
  engine?: 'auto' | 'yara-x' | 'yara';
  /**
   * Compile on the first scan instead of now. A re-scan served from the cache then never starts the engine. Only for
   * rules known to compile (the bundled ones, which a test compiles with both engines): rules left out at compile
   * time would not be in `skipped` before the first scan.
   */
  lazy?: boolean;
}

interface RuleFile {
  path: string;
  /** Path relative to the directory it was found under: the rules' namespace. */
  namespace: string;
  source: string;
}

const RULE_FILE = /\.(yar|yara)$/i;

async function findRuleFiles(root: string, into: RuleFile[]): Promise<void> {
  const top = resolve(root);
  const info = await stat(top).catch(() => undefined);
  if (!info) throw new Error(`YARA rule directory ${root} does not exist`);
  if (info.isFile()) {
    into.push({ path: top, namespace: top.slice(top.lastIndexOf('/') + 1), source: await readFile(top, 'utf8') });
    return;
  }
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && RULE_FILE.test(entry.name)) into.push({ path, namespace: relative(top, path), source: await readFile(path, 'utf8') });
    }
  };
  await walk(top);
}

interface RuleUnit {
  file: RuleFile;
  block: RuleBlock;
  compiledName: string;
  /** Compiled names of the rules of the same file this one needs (references, and the file's global rules). */
  needs: string[];
  /** Modules of the file's imports that the condition uses. */
  modules: string[];
  usesExternals: boolean;
  dropped?: string;
}

interface Prepared {
  units: RuleUnit[];
  imports: string[];
  skipped: SkippedRule[];
}

/** Splits every file into rules, renames rules whose names an earlier file already used, and works out dependencies. */
function prepare(files: RuleFile[]): Prepared {
  const skipped: SkippedRule[] = [];
  const parsed: { file: RuleFile; rules: RuleBlock[]; imports: string[] }[] = [];
  for (const file of files) {
    try {
      const p = splitYaraSource(file.source);
      parsed.push({ file, rules: p.rules, imports: p.imports.map((i) => i.module) });
    } catch (err) {
      if (!(err instanceof YaraSplitError)) throw err;
      skipped.push({ file: file.path, reason: `cannot be split into rules (${err.message})` });
    }
  }
  const allNames = new Set(parsed.flatMap((p) => p.rules.map((r) => r.name)));
  const taken = new Set<string>();
  const units: RuleUnit[] = [];
  const imports = new Set<string>();
  for (const { file, rules, imports: fileImports } of parsed) {
    fileImports.forEach((m) => imports.add(m));
    const localNames = new Map<string, string>();
    for (const block of rules) {
      if (localNames.has(block.name)) continue; // a duplicate in the same file: the engine reports it
      let compiled = block.name;
      if (taken.has(compiled)) {
        for (let n = 2; taken.has(compiled) || allNames.has(compiled); n++) compiled = `${block.name}__${n}`;
      }
      taken.add(compiled);
      localNames.set(block.name, compiled);
    }
    const globals = rules.filter((r) => r.isGlobal).map((r) => localNames.get(r.name)!);
    const seen = new Set<string>();
    for (const block of rules) {
      const duplicate = seen.has(block.name);
      seen.add(block.name);
      const compiledName = localNames.get(block.name)!;
      const needs = new Set<string>();
      for (const use of block.identifiers) {
        const target = localNames.get(use.name);
        if (!use.member && target !== undefined && use.name !== block.name) needs.add(target);
      }
      if (!block.isGlobal) globals.forEach((g) => needs.add(g));
      const modules = fileImports.filter((m) => block.identifiers.some((use) => use.name === m));
      const usesExternals = block.identifiers.some((use) => !use.member && (EXTERNAL_VARIABLES as readonly string[]).includes(use.name) && !localNames.has(use.name));
      const unit: RuleUnit = { file, block, compiledName, needs: [...needs], modules, usesExternals };
      if (duplicate) unit.dropped = `duplicate rule "${block.name}" in the same file`;
      units.push(unit);
    }
  }
  return { units, imports: [...imports], skipped };
}

/** The text of one rule as compiled: renamed, with references renamed, and global rules made explicit. */
function emitRule(unit: RuleUnit, names: ReadonlyMap<string, string>, liveGlobals: readonly string[]): string {
  const { block, file } = unit;
  const edits: { at: number; remove: number; insert: string }[] = [];
  if (unit.compiledName !== block.name) edits.push({ at: block.nameOffset, remove: block.name.length, insert: unit.compiledName });
  for (const use of block.identifiers) {
    const target = names.get(use.name);
    if (!use.member && target !== undefined && target !== use.name) edits.push({ at: use.offset, remove: use.name.length, insert: target });
  }
  // A global rule applies to its own file only (as to its namespace in YARA): compiled as a private rule that every
  // other rule of the file requires.
  if (block.isGlobal && block.globalOffset !== undefined) edits.push({ at: block.globalOffset, remove: 'global'.length, insert: block.isPrivate ? '' : 'private' });
  const globals = block.isGlobal ? [] : liveGlobals;
  if (globals.length > 0 && block.conditionStart !== undefined) {
    edits.push({ at: block.conditionStart, remove: 0, insert: ' (' });
    edits.push({ at: block.closeBrace, remove: 0, insert: `) and ${globals.join(' and ')} ` });
  }
  edits.sort((a, b) => b.at - a.at);
  let text = file.source.slice(block.start, block.end);
  for (const e of edits) text = text.slice(0, e.at - block.start) + e.insert + text.slice(e.at - block.start + e.remove);
  return text;
}

interface Assembly {
  source: string;
  /** 1-based line → import module, for the header. */
  importLines: Map<number, string>;
  /** Emitted rules with their line spans. */
  spans: { first: number; last: number; unit: RuleUnit }[];
}

function assemble(units: RuleUnit[], imports: string[], missingModules: Set<string>): Assembly {
  const lines: string[] = [];
  const importLines = new Map<number, string>();
  for (const m of imports) {
    if (missingModules.has(m)) continue;
    lines.push(`import "${m.replace(/["\\]/g, '')}"`);
    importLines.set(lines.length, m);
  }
  const spans: Assembly['spans'] = [];
  const perFile = new Map<RuleFile, { names: Map<string, string>; globals: string[] }>();
  for (const u of units) {
    let entry = perFile.get(u.file);
    if (!entry) perFile.set(u.file, (entry = { names: new Map(), globals: [] }));
    if (!entry.names.has(u.block.name)) entry.names.set(u.block.name, u.compiledName);
    if (u.block.isGlobal && !u.dropped) entry.globals.push(u.compiledName);
  }
  for (const unit of units) {
    if (unit.dropped) continue;
    const { names, globals } = perFile.get(unit.file)!;
    const text = emitRule(unit, names, globals);
    const first = lines.length + 1;
    const parts = text.split('\n');
    lines.push(...parts);
    spans.push({ first, last: lines.length, unit });
  }
  return { source: lines.join('\n') + '\n', importLines, spans };
}

function spanAt(spans: Assembly['spans'], line: number): RuleUnit | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (line < s.first) hi = mid - 1;
    else if (line > s.last) lo = mid + 1;
    else return s.unit;
  }
  return undefined;
}

function readableReason(error: EngineError): string {
  return error.message.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Compiles what can be compiled: rules the engine refuses are left out one by one, with those that need them. */
async function compileIsolating(engine: RuleEngine, prepared: Prepared, digest: string): Promise<CompiledRules> {
  const { units, imports } = prepared;
  const missingModules = new Set<string>();
  for (let round = 0; round < MAX_YARA_COMPILE_ROUNDS; round++) {
    const assembly = assemble(units, imports, missingModules);
    const live = units.filter((u) => !u.dropped);
    const table = new Map<string, RuleInfo>();
    for (const u of live) table.set(u.compiledName, { rule: u.block.name, namespace: u.file.namespace, tags: u.block.tags, meta: u.block.meta });
    const skipped: SkippedRule[] = [
      ...prepared.skipped,
      ...units.filter((u) => u.dropped).map((u) => ({ file: u.file.path, rule: u.block.name, reason: u.dropped! })),
    ];
    const notes: string[] = [];
    const externalUsers = live.filter((u) => u.usesExternals).length;
    if (engine.name === 'yara' && externalUsers > 0) {
      notes.push(
        `${externalUsers} YARA rule(s) test the file's name or path (${EXTERNAL_VARIABLES.join(', ')}); the yara CLI engine sets these empty for every file, so such rules may miss. Use the YARA-X engine for them.`,
      );
    }
    const assembled: AssembledRules = { source: assembly.source, table, digest, ruleCount: live.length, skipped, notes };
    const result = await engine.build(assembled);
    if (result.ok) return result.rules;

    let progress = false;
    // Imports first: a rule that fails only because its module is missing is then reported as such.
    const ruleErrors: EngineError[] = [];
    for (const error of result.errors) {
      const module = error.line !== undefined ? assembly.importLines.get(error.line) : undefined;
      if (module === undefined) ruleErrors.push(error);
      else if (!missingModules.has(module)) {
        missingModules.add(module);
        progress = true;
      }
    }
    for (const unit of units) {
      const missing = unit.modules.find((m) => missingModules.has(m));
      if (!unit.dropped && missing !== undefined) unit.dropped = `needs module "${missing}", which the ${engine.name} engine lacks`;
    }
    const failed = new Map<RuleUnit, string>();
    for (const error of ruleErrors) {
      const unit = error.line !== undefined ? spanAt(assembly.spans, error.line) : undefined;
      if (!unit) throw new Error(`the YARA rules could not be compiled with ${engine.name}: ${readableReason(error)}`);
      if (!unit.dropped && !failed.has(unit)) failed.set(unit, readableReason(error));
    }
    // A rule that fails only for naming a rule that failed too is reported as depending on it (below).
    const failedNames = new Set([...failed.keys()].map((u) => u.compiledName));
    for (const [unit, reason] of failed) {
      const unknown = /^unknown identifier "([^"]+)"$|^undefined identifier "([^"]+)"$/.exec(reason);
      const name = unknown?.[1] ?? unknown?.[2];
      if (name !== undefined && failedNames.has(name) && unit.needs.includes(name)) continue;
      unit.dropped = reason;
      progress = true;
    }
    const byFile = new Map<RuleFile, RuleUnit[]>();
    for (const u of units) {
      const list = byFile.get(u.file);
      if (list) list.push(u);
      else byFile.set(u.file, [u]);
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const unit of units) {
        if (unit.dropped || unit.needs.length === 0) continue;
        const fileUnits = byFile.get(unit.file)!;
        const gone = unit.needs.find((name) => fileUnits.some((u) => u.compiledName === name && u.dropped));
        if (gone !== undefined) {
          const original = fileUnits.find((u) => u.compiledName === gone)!.block.name;
          unit.dropped = `depends on rule "${original}", which was left out`;
          changed = true;
          progress = true;
        }
      }
    }
    if (!progress) throw new Error(`the YARA rules could not be compiled with ${engine.name}: ${result.errors.map(readableReason).join('; ')}`);
  }
  throw new Error(`the YARA rules could not be compiled with ${engine.name}: too many failing rules`);
}

async function chooseEngine(wanted: 'auto' | 'yara-x' | 'yara'): Promise<RuleEngine> {
  if (wanted !== 'yara') {
    const binding = await loadYaraXBinding();
    if (typeof binding === 'string') return new YaraXEngine(binding);
    if (wanted === 'yara-x') {
      throw new Error(`the YARA-X engine (@litko/yara-x) could not be loaded: ${binding.message}. Reinstall Detonate's node modules (npm ci).`);
    }
    if (await yaraCliAvailable()) return new YaraCliEngine();
    throw new Error(
      `no YARA engine is available: the YARA-X binding (@litko/yara-x) did not load (${binding.message}) and the yara command was not found. ` +
        'Reinstall Detonate\'s node modules (npm ci), or install YARA (apt-get install yara).',
    );
  }
  if (await yaraCliAvailable()) return new YaraCliEngine();
  throw new Error('the yara command (and yarac) was not found: install YARA (apt-get install yara), or use the YARA-X engine.');
}

const memo = new Map<string, Promise<CompiledRules>>();

/** Where the shipped YARA rules live. */
export function bundledYaraDir(): string {
  return join(bundledRulesDir(), 'yara');
}

/**
 * Loads, compiles (once per process for the same engine and sources) and returns the YARA rules: the shipped ones
 * and any user directories. Rules an engine refuses are left out and listed in `skipped`, never silently dropped.
 */
export async function loadRules(options: LoadRulesOptions = {}): Promise<CompiledRules> {
  const engine = await chooseEngine(options.engine ?? 'auto');
  const files = await collectRuleFiles(options);
  const digest = sourcesDigest(engine.name, files);
  let compiled = memo.get(digest);
  if (!compiled && options.lazy) return lazyRules(engine, files, digest);
  if (!compiled) {
    compiled = compileIsolating(engine, prepare(files), digest).then((rules) => forgetOnClose(rules, digest));
    memo.set(digest, compiled);
    compiled.catch(() => memo.delete(digest));
  }
  return compiled;
}

/** Rules that know their digest now and compile (once, memoised like `loadRules`) when first used. */
function lazyRules(engine: RuleEngine, files: RuleFile[], digest: string): CompiledRules {
  let compiled: Promise<CompiledRules> | undefined;
  const compile = (): Promise<CompiledRules> => {
    if (!compiled) {
      compiled = memo.get(digest) ?? compileIsolating(engine, prepare(files), digest).then((rules) => forgetOnClose(rules, digest));
      memo.set(digest, compiled);
      compiled.catch(() => memo.delete(digest));
    }
    return compiled;
  };
  return {
    engine: engine.name,
    digest,
    ruleCount: files.reduce((n, f) => n + (f.source.match(/^\s*(?:(?:private|global)\s+)*rule\s/gm)?.length ?? 0), 0),
    skipped: [],
    notes: [],
    scan: async (content, variables) => (await compile()).scan(content, variables),
    close: async () => {
      if (compiled) await (await compiled).close();
    },
  };
}

/** Compiles the rules `options` names with a given engine, without memoising (the benchmark records what it compiles). */
export async function compileRulesWith(engine: RuleEngine, options: Omit<LoadRulesOptions, 'engine'> = {}): Promise<CompiledRules> {
  const files = await collectRuleFiles(options);
  return compileIsolating(engine, prepare(files), sourcesDigest(engine.name, files));
}

async function collectRuleFiles(options: Omit<LoadRulesOptions, 'engine'>): Promise<RuleFile[]> {
  const files: RuleFile[] = [];
  if (options.bundled ?? true) {
    const dir = bundledYaraDir();
    if (existsSync(dir)) await findRuleFiles(dir, files);
  }
  for (const dir of options.dirs ?? []) await findRuleFiles(dir, files);
  return files;
}

function sourcesDigest(engine: string, files: RuleFile[]): string {
  const hash = createHash('sha256').update(`detonate-yara\0${engine}\0`);
  for (const f of files) hash.update(`${f.namespace}\0${f.source.length}\0${f.source}\0`);
  return hash.digest('hex');
}

/** Closing memoised rules (the CLI engine's temp files) makes the next `loadRules` compile afresh. */
function forgetOnClose(rules: CompiledRules, digest: string): CompiledRules {
  return {
    engine: rules.engine,
    digest: rules.digest,
    ruleCount: rules.ruleCount,
    skipped: rules.skipped,
    notes: rules.notes ?? [],
    scan: (content, variables) => rules.scan(content, variables),
    close: async () => {
      memo.delete(digest);
      await rules.close();
    },
  };
}

/** One line per rule (or file) left out, and per engine limitation, for the CLI to print as notices. */
export function describeSkippedRules(rules: Pick<CompiledRules, 'skipped' | 'notes'>): string[] {
  const lines = rules.skipped.map((s) => (s.rule ? `YARA rule "${s.rule}" in ${s.file} was left out: ${s.reason}` : `YARA rule file ${s.file} was left out: ${s.reason}`));
  return [...lines, ...(rules.notes ?? [])];
}
