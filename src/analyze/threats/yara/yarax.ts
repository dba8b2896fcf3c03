import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CompiledRules, ScanVariables, YaraMatch, YaraStringMatch } from './engine.js';
import {
  matchData,
  passableAsString,
  variableValues,
  type AssembledRules,
  type BuildResult,
  type EngineError,
  type RuleEngine,
} from './backend.js';
import { MAX_YARA_MATCHES_PER_PATTERN, MAX_YARA_STRINGS_PER_RULE } from '../../limits.js';

/**
 * The YARA-X engine through `@litko/yara-x`. The rules are compiled in a pool of worker threads and every worker
 * scans with the binding's synchronous `scan` (its `scanAsync` is about 2.5× slower per file, and the worker is off the
 * main thread already). Scans wait in one queue on the main thread and are handed out in batches to whichever worker
 * has room, so one large file never holds up small ones queued behind it on the same worker, and a worker always has
 * the next batch in hand while the main thread is busy elsewhere. A batch of small files is copied into one reusable
 * slab that travels to the worker and back (moved, not copied): no fresh memory to fault in and zero per file. The
 * worker is inline JavaScript so it runs the same from `src/` under tsx and from the bundle.
 */

/**
 * One thread fewer than the machine has, since the walk's own thread (and zlib's) is busy too: on 2 cores a second
 * YARA thread bought no speed and cost 20 MB. `DETONATE_YARA_WORKERS` overrides.
 */
export const YARAX_WORKERS = Math.max(1, Number(process.env.DETONATE_YARA_WORKERS) || Math.min(availableParallelism() - 1, 8));

/** Batches a worker may hold at once (one being scanned, one waiting): keeps it busy without starving the others. */
const BATCHES_PER_WORKER = 2;
/** A batch is cut at this many files or when its files no longer fit in one slab (a larger file goes alone). */
const BATCH_MAX_FILES = 32;
const SLAB_BYTES = 2 * 1024 * 1024;

interface WorkerMatch {
  rule: string;
  namespace: string;
  tags: string[];
  strings: { identifier: string; offset: number; length: number }[];
}

type WorkerResult = { id: number; matches: WorkerMatch[] } | { id: number; error: string };

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string; errors: string[] }
  | { type: 'results'; results: WorkerResult[]; memory: ArrayBuffer };

/** One file of a batch: its bytes are `length` bytes at `offset` of the batch's memory. */
interface ScanRequest {
  id: number;
  offset: number;
  length: number;
  variables: Record<string, string>;
}

interface Batch {
  memory: ArrayBuffer;
  scans: ScanRequest[];
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const errorText = (err) => (err && err.message) ? err.message : String(err);
const maxStrings = workerData.maxStringsPerRule;
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
const toMatch = (m) => {
  const strings = [];
  const found = m.matches;
  for (let i = 0; i < found.length && i < maxStrings; i++) strings.push({ identifier: found[i].identifier, offset: found[i].offset, length: found[i].length });
  return { rule: m.ruleIdentifier, namespace: m.namespace, tags: m.tags, strings };
};
parentPort.on('message', ({ memory, scans }) => {
  const results = [];
  for (const { id, offset, length, variables } of scans) {
    try {
      const found = rules.scan(Buffer.from(memory, offset, length), variables);
      results.push({ id, matches: found.length === 0 ? [] : found.map(toMatch) });
    } catch (err) {
      results.push({ id, error: errorText(err) });
    }
  }
  parentPort.postMessage({ type: 'results', results, memory }, [memory]);
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

interface QueuedScan extends PendingScan {
  id: number;
  variables: Record<string, string>;
}

class ScanWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, PendingScan>();
  /** Batches posted and not yet answered. */
  batches = 0;
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
        maxMatchesPerPattern: MAX_YARA_MATCHES_PER_PATTERN,
        maxStringsPerRule: MAX_YARA_STRINGS_PER_RULE,
      },
    });
    this.started = new Promise((resolve) => {
      this.worker.once('message', (m: WorkerMessage) => {
        this.worker.unref(); // kept referenced only while it compiles or has scans in flight (see `post`)
        resolve(m);
      });
      this.worker.once('error', (err) => resolve({ type: 'failed', message: err.message, errors: [] }));
      this.worker.once('exit', (code) => resolve({ type: 'failed', message: `the YARA-X worker exited (${code})`, errors: [] }));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the YARA-X worker exited (${code})`)));
  }

  post(batch: Batch, scans: QueuedScan[]): void {
    if (this.batches === 0) this.worker.ref();
    this.batches++;
    for (const scan of scans) this.pending.set(scan.id, scan);
    this.worker.postMessage(batch, [batch.memory]);
  }

  /** Takes the answered scans out of `pending`; the batch no longer counts against the worker. */
  settle(results: WorkerResult[]): { scan: PendingScan; result: WorkerResult }[] {
    const settled: { scan: PendingScan; result: WorkerResult }[] = [];
    for (const result of results) {
      const scan = this.pending.get(result.id);
      if (!scan) continue;
      this.pending.delete(result.id);
      settled.push({ scan, result });
    }
    this.batches = Math.max(0, this.batches - 1);
    if (this.batches === 0) this.worker.unref();
    return settled;
  }

  fail(err: Error): void {
    this.dead ??= err;
    this.batches = 0;
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
  private queue: QueuedScan[] = [];
  private queueHead = 0;
  /** Slabs back from the workers, for the next batches (never more than the workers can hold at once). */
  private slabs: ArrayBuffer[] = [];
  private closed: Error | undefined;
  private dispatchScheduled = false;

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
        if (m.type !== 'results') return;
        const settled = w.settle(m.results);
        if (m.memory.byteLength === SLAB_BYTES && this.slabs.length < this.workers.length * BATCHES_PER_WORKER) this.slabs.push(m.memory);
        this.dispatch(); // refill the worker before handling results, so it scans while the main thread works
        for (const { scan, result } of settled) {
          if ('error' in result) scan.reject(new Error(result.error));
          else scan.resolve(result.matches.length === 0 ? [] : result.matches.map((match) => this.toMatch(match, scan.content)));
        }
      });
      w.worker.on('exit', () => this.dispatch());
    }
  }

  private toMatch(m: WorkerMatch, content: Buffer): YaraMatch {
    const info = this.assembled.table.get(m.rule);
    const strings: YaraStringMatch[] = m.strings.map((s) => ({ identifier: s.identifier, offset: s.offset, length: s.length, data: matchData(content, s.offset, s.length) }));
    // Meta comes from the rule source: the binding reports booleans as "unknown".
    return { rule: info?.rule ?? m.rule, namespace: info?.namespace ?? m.namespace, tags: [...m.tags], meta: { ...(info?.meta ?? {}) }, strings };
  }

  /** Hands queued scans, in batches, to the workers with room for another batch (the least busy first). */
  private dispatch(): void {
    while (this.queueHead < this.queue.length) {
      let target: ScanWorker | undefined;
      for (const w of this.workers) if (!w.dead && w.batches < BATCHES_PER_WORKER && (!target || w.batches < target.batches)) target = w;
      if (!target) break;
      const scans: QueuedScan[] = [];
      let bytes = 0;
      while (this.queueHead < this.queue.length && scans.length < BATCH_MAX_FILES) {
        const next = this.queue[this.queueHead]!;
        if (scans.length > 0 && bytes + next.content.length > SLAB_BYTES) break;
        scans.push(next);
        bytes += next.content.length;
        this.queueHead++;
      }
      // A copy the worker can own: the content is shared with other analyzers (and a Buffer may be a view of a much
      // larger pooled block), so it cannot be moved itself.
      const memory = bytes <= SLAB_BYTES ? (this.slabs.pop() ?? new ArrayBuffer(SLAB_BYTES)) : Buffer.allocUnsafeSlow(bytes).buffer;
      const view = new Uint8Array(memory);
      const requests: ScanRequest[] = [];
      let offset = 0;
      for (const scan of scans) {
        view.set(scan.content, offset);
        requests.push({ id: scan.id, offset, length: scan.content.length, variables: scan.variables });
        offset += scan.content.length;
      }
      target.post({ memory, scans: requests }, scans);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.workers.every((w) => w.dead)) {
      const err = this.closed ?? this.workers[0]?.dead ?? new Error('the YARA rules were closed');
      const stranded = this.queue.slice(this.queueHead);
      this.queue = [];
      this.queueHead = 0;
      for (const scan of stranded) scan.reject(err);
    }
  }

  scan(content: Buffer, variables: ScanVariables): Promise<YaraMatch[]> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.workers.every((w) => w.dead)) return Promise.reject(this.workers[0]?.dead ?? new Error('the YARA rules were closed'));
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(variableValues(variables))) if (value !== '' && passableAsString(value)) values[name] = value;
    return new Promise((resolve, reject) => {
      this.queue.push({ content, resolve, reject, id: this.nextId++, variables: values });
      // An idle worker gets the scan at once; busy ones get what has queued up by the next turn, in one batch.
      if (this.workers.some((w) => !w.dead && w.batches === 0)) this.dispatch();
      else if (!this.dispatchScheduled) {
        this.dispatchScheduled = true;
        setImmediate(() => {
          this.dispatchScheduled = false;
          this.dispatch();
        });
      }
    });
  }

  async close(): Promise<void> {
    this.closed ??= new Error('the YARA rules were closed');
    const stranded = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (const scan of stranded) scan.reject(this.closed);
    this.slabs = [];
    await Promise.all(
      this.workers.map(async (w) => {
        w.fail(this.closed!);
        await w.worker.terminate();
      }),
    );
  }
}
