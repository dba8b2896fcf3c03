import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CompiledRules, ScanVariables, YaraMatch, YaraStringMatch } from './engine.js';
import {
  MAX_MATCHES_PER_PATTERN,
  MAX_STRINGS_PER_RULE,
  matchData,
  passableAsString,
  variableValues,
  type AssembledRules,
  type BuildResult,
  type EngineError,
  type RuleEngine,
} from './backend.js';

/**
 * The YARA-X engine through `@litko/yara-x`. The binding runs one scan at a time per process (its `scanAsync` keeps
 * one core busy however many scans are in flight), so the rules are compiled in a pool of worker threads, one per
 * core, and each scan goes to the least busy worker: compiling and scanning never block the main thread, and every
 * core scans. The worker is inline JavaScript so it runs the same from `src/` under tsx and from the bundle.
 */

export const YARAX_WORKERS = Math.max(1, Math.min(availableParallelism(), Number(process.env.DETONATE_YARA_WORKERS) || 8));

interface WorkerMatch {
  rule: string;
  namespace: string;
  tags: string[];
  strings: { identifier: string; offset: number; length: number }[];
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string; errors: string[] }
  | { type: 'result'; id: number; matches: WorkerMatch[] }
  | { type: 'scan-error'; id: number; message: string };

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const errorText = (err) => (err && err.message) ? err.message : String(err);
let rules;
try {
  const yarax = require(workerData.bindingPath);
  try {
    rules = yarax.compile(workerData.source, workerData.options);
    rules.setMaxMatchesPerPattern(workerData.maxMatchesPerPattern);
    parentPort.postMessage({ type: 'ready' });
  } catch (err) {
    let errors = [];
    if (workerData.validate) {
      try { errors = yarax.validate(workerData.source, workerData.options).errors.map((e) => e.message); } catch (e) { errors = []; }
    }
    parentPort.postMessage({ type: 'failed', message: errorText(err), errors });
  }
} catch (err) {
  parentPort.postMessage({ type: 'failed', message: errorText(err), errors: [] });
}
parentPort.on('message', async ({ id, data, variables }) => {
  try {
    const found = await rules.scanAsync(Buffer.from(data.buffer, data.byteOffset, data.byteLength), variables);
    const matches = found.map((m) => ({
      rule: m.ruleIdentifier,
      namespace: m.namespace,
      tags: m.tags,
      strings: m.matches.slice(0, workerData.maxStringsPerRule).map((s) => ({ identifier: s.identifier, offset: s.offset, length: s.length })),
    }));
    parentPort.postMessage({ type: 'result', id, matches });
  } catch (err) {
    parentPort.postMessage({ type: 'scan-error', id, message: errorText(err) });
  }
});
`;

let bindingPath: Promise<string | Error> | undefined;

/** Where the binding is, once it is known to load here (no prebuilt binary for this platform, a broken install …). */
export function loadYaraXBinding(): Promise<string | Error> {
  bindingPath ??= (async () => {
    try {
      const mod = (await import('@litko/yara-x')) as { compile?: unknown; default?: { compile?: unknown } };
      if (typeof (mod.compile ?? mod.default?.compile) !== 'function') return new Error('@litko/yara-x loaded but exports no compile()');
      return createRequire(import.meta.url).resolve('@litko/yara-x');
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  })();
  return bindingPath;
}

/** `error[E014]: invalid regular expression\n --> line:3:30\n …  ^ unclosed group` → line 3, a one-line reason. */
export function parseYaraXError(message: string): EngineError {
  const lines = message.split('\n');
  const head = (lines[0] ?? message).replace(/^error\[E\d+\]:\s*/, '').replace(/`/g, '"');
  const lineMatch = /-->\s*line:(\d+):\d+/.exec(message);
  const detail = lines.map((l) => /^\s*\|\s*[\^-]+\s+(.+)$/.exec(l)?.[1]?.trim()).find((d) => d !== undefined && d !== '');
  const text = detail && !head.includes(detail) && !/has not been declared|not found$/.test(detail) ? `${head} (${detail.replace(/`/g, '"')})` : head;
  return { ...(lineMatch ? { line: Number(lineMatch[1]) } : {}), message: text };
}

interface PendingScan {
  content: Buffer;
  resolve: (matches: YaraMatch[]) => void;
  reject: (err: Error) => void;
}

class ScanWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, PendingScan>();
  dead: Error | undefined;
  readonly started: Promise<WorkerMessage>;

  constructor(binding: string, source: string, validate: boolean) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        bindingPath: binding,
        source,
        validate,
        options: { defineVariables: variableValues(), enableIncludes: false },
        maxMatchesPerPattern: MAX_MATCHES_PER_PATTERN,
        maxStringsPerRule: MAX_STRINGS_PER_RULE,
      },
    });
    this.started = new Promise((resolve) => {
      this.worker.once('message', (m: WorkerMessage) => {
        this.worker.unref(); // kept referenced only while it compiles or has scans in flight (see `track`)
        resolve(m);
      });
      this.worker.once('error', (err) => resolve({ type: 'failed', message: err.message, errors: [] }));
      this.worker.once('exit', (code) => resolve({ type: 'failed', message: `the YARA-X worker exited (${code})`, errors: [] }));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the YARA-X worker exited (${code})`)));
  }

  track(id: number, scan: PendingScan): void {
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, scan);
  }

  settle(id: number): PendingScan | undefined {
    const scan = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return scan;
  }

  fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

export class YaraXEngine implements RuleEngine {
  readonly name = 'yara-x' as const;

  constructor(private readonly binding: string) {}

  async build(assembled: AssembledRules): Promise<BuildResult> {
    // Every worker compiles at once; the first also lists all errors if the rules do not compile.
    const workers = Array.from({ length: YARAX_WORKERS }, (_, i) => new ScanWorker(this.binding, assembled.source, i === 0));
    const first = await workers[0]!.started;
    if (first.type !== 'ready') {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      const errors = first.type === 'failed' ? first.errors.map(parseYaraXError) : [];
      if (errors.length === 0) errors.push({ message: first.type === 'failed' ? first.message : 'the YARA-X worker did not start' });
      return { ok: false, errors };
    }
    const started = await Promise.all(workers.map((w) => w.started));
    const ready = workers.filter((_, i) => started[i]!.type === 'ready');
    await Promise.all(workers.filter((w) => !ready.includes(w)).map((w) => w.worker.terminate()));
    return { ok: true, rules: new YaraXRuleSet(ready, assembled) };
  }
}

class YaraXRuleSet implements CompiledRules {
  readonly engine = 'yara-x' as const;
  readonly digest: string;
  readonly ruleCount: number;
  readonly skipped;
  readonly notes;
  private nextId = 0;

  constructor(
    private readonly workers: ScanWorker[],
    private readonly assembled: AssembledRules,
  ) {
    this.digest = assembled.digest;
    this.ruleCount = assembled.ruleCount;
    this.skipped = assembled.skipped;
    this.notes = assembled.notes;
    for (const w of workers) {
      w.worker.on('message', (m: WorkerMessage) => {
        if (m.type !== 'result' && m.type !== 'scan-error') return;
        const p = w.settle(m.id);
        if (!p) return;
        if (m.type === 'scan-error') p.reject(new Error(m.message));
        else p.resolve(m.matches.map((match) => this.toMatch(match, p.content)));
      });
    }
  }

  private toMatch(m: WorkerMatch, content: Buffer): YaraMatch {
    const info = this.assembled.table.get(m.rule);
    const strings: YaraStringMatch[] = m.strings.map((s) => ({ identifier: s.identifier, offset: s.offset, length: s.length, data: matchData(content, s.offset, s.length) }));
    // Meta comes from the rule source: the binding reports booleans as "unknown".
    return { rule: info?.rule ?? m.rule, namespace: info?.namespace ?? m.namespace, tags: [...m.tags], meta: { ...(info?.meta ?? {}) }, strings };
  }

  scan(content: Buffer, variables: ScanVariables): Promise<YaraMatch[]> {
    let target: ScanWorker | undefined;
    for (const w of this.workers) if (!w.dead && (!target || w.pending.size < target.pending.size)) target = w;
    if (!target) return Promise.reject(this.workers[0]?.dead ?? new Error('the YARA rules were closed'));
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(variableValues(variables))) if (value !== '' && passableAsString(value)) values[name] = value;
    const id = this.nextId++;
    // A copy in its own memory, moved to the worker (a Buffer may be a view of a much larger pooled block).
    const data = new Uint8Array(content.length);
    data.set(content);
    const worker = target;
    return new Promise((resolve, reject) => {
      worker.track(id, { content, resolve, reject });
      worker.worker.postMessage({ id, data, variables: values }, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        w.fail(new Error('the YARA rules were closed'));
        await w.worker.terminate();
      }),
    );
  }
}
