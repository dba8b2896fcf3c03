import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CompiledRules, ScanVariables, YaraMatch } from './engine.js';
import {
  EXTERNAL_VARIABLES,
  matchData,
  type AssembledRules,
  type BuildResult,
  type EngineError,
  type RuleEngine,
} from './backend.js';
import { MAX_YARA_STRINGS_PER_RULE, YARA_SCAN_TIMEOUT_SECONDS } from '../../limits.js';

/**
 * The Debian `yara` CLI (4.2) as a fallback engine. Rules are compiled once with `yarac`; concurrent `scan()` calls are
 * collected into batches that one `yara` process scans with `-p <cores>` threads, so the per-process start-up cost is
 * paid per batch, not per file.
 *
 * Limitation: one `yara` process can give an external variable one value only, so `filename`, `filepath`,
 * `extension`, `filetype` and `owner` are defined empty for every file. Rules that test them behave as for a file
 * with no name (the loader adds a note naming how many rules use them).
 */

export const YARA_CLI = process.env.DETONATE_YARA ?? 'yara';
export const YARAC_CLI = process.env.DETONATE_YARAC ?? 'yarac';

/** Files per `yara` process, and how long a scan waits for companions before its batch starts. */
export const MAX_BATCH_FILES = 64;
export const BATCH_WAIT_MS = 4;

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProcess(command: string, args: string[]): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.setEncoding('latin1').on('data', (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Whether `yara` and `yarac` can be run here. */
export async function yaraCliAvailable(): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([runProcess(YARA_CLI, ['--version']), runProcess(YARAC_CLI, ['--version'])]);
    return a.code === 0 && b.code === 0;
  } catch {
    return false;
  }
}

function defineArgs(values?: Record<string, string>): string[] {
  return EXTERNAL_VARIABLES.flatMap((name) => ['-d', `${name}=${values?.[name] ?? ''}`]);
}

/** `error: rule "bad1" in /tmp/x/rules.yar(2): invalid regular expression "$a": syntax error` → line 2 and the message. */
export function parseYaracErrors(stderr: string): EngineError[] {
  const errors: EngineError[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('error')) continue;
    const m = /\((\d+)\): (.*)$/.exec(line);
    if (m) errors.push({ line: Number(m[1]), message: m[2]!.trim() });
    else errors.push({ message: line.replace(/^error:\s*/, '') });
  }
  return errors;
}

export class YaraCliEngine implements RuleEngine {
  readonly name = 'yara' as const;

  async build(assembled: AssembledRules): Promise<BuildResult> {
    const dir = await mkdtemp(join(tmpdir(), 'detonate-yara-'));
    let keep = false;
    try {
      const sourcePath = join(dir, 'rules.yar');
      const compiledPath = join(dir, 'rules.yarc');
      await writeFile(sourcePath, assembled.source, { mode: 0o600 });
      const result = await runProcess(YARAC_CLI, ['-w', ...defineArgs(), sourcePath, compiledPath]);
      if (result.code !== 0) {
        const errors = parseYaracErrors(result.stderr);
        if (errors.length === 0) errors.push({ message: `yarac failed (${result.code}): ${result.stderr.trim().slice(0, 500)}` });
        return { ok: false, errors };
      }
      await rm(sourcePath, { force: true });
      keep = true;
      return { ok: true, rules: new YaraCliRuleSet(dir, compiledPath, assembled) };
    } finally {
      if (!keep) await rm(dir, { recursive: true, force: true });
    }
  }
}

interface PendingScan {
  content: Buffer;
  resolve: (matches: YaraMatch[]) => void;
  reject: (err: Error) => void;
}

const RULE_LINE = /^(\S+) (\S+)$/;
const STRING_LINE = /^0x([0-9a-fA-F]+):(\d+):(\$[A-Za-z0-9_]*):/;

class YaraCliRuleSet implements CompiledRules {
  readonly engine = 'yara' as const;
  readonly digest: string;
  readonly ruleCount: number;
  readonly skipped;
  readonly notes;
  private pending: PendingScan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly running = new Set<Promise<void>>();
  private batchNumber = 0;

  constructor(
    private readonly dir: string,
    private readonly compiledPath: string,
    private readonly assembled: AssembledRules,
  ) {
    this.digest = assembled.digest;
    this.ruleCount = assembled.ruleCount;
    this.skipped = assembled.skipped;
    this.notes = assembled.notes;
  }

  scan(content: Buffer, _variables: ScanVariables): Promise<YaraMatch[]> {
    if (this.closed) return Promise.reject(new Error('the YARA rules were closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ content, resolve, reject });
      if (this.pending.length >= MAX_BATCH_FILES) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), BATCH_WAIT_MS);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0, this.pending.length);
    if (batch.length === 0) return;
    const run = this.runBatch(batch).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(error);
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async runBatch(batch: PendingScan[]): Promise<void> {
    const batchDir = await mkdtemp(join(this.dir, `batch-${this.batchNumber++}-`));
    try {
      const names = batch.map((_, i) => join(batchDir, `f${i}`));
      await Promise.all(batch.map((p, i) => writeFile(names[i]!, p.content, { mode: 0o600 })));
      const indexOf = new Map(names.map((name, i) => [name, i]));
      const results: YaraMatch[][] = batch.map(() => []);
      const failures = new Map<number, string>();
      const threads = Math.max(1, Math.min(availableParallelism(), batch.length));
      const args = ['-C', '-w', '-s', '-L', '-N', '-p', String(threads), '-a', String(YARA_SCAN_TIMEOUT_SECONDS), ...defineArgs(), this.compiledPath, batchDir];
      const child = spawn(YARA_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      // A pathological rule is stopped by `-a` per file; this bounds the whole process in case yara itself hangs.
      const killTimer = setTimeout(() => child.kill('SIGKILL'), (YARA_SCAN_TIMEOUT_SECONDS * Math.ceil(batch.length / threads) + 30) * 1000);
      let stderr = '';
      child.stderr.setEncoding('latin1').on('data', (d: string) => {
        if (stderr.length < 1 << 16) stderr += d;
      });
      let current: { file: number; match: YaraMatch } | undefined;
      const lines = createInterface({ input: child.stdout.setEncoding('latin1'), crlfDelay: Infinity });
      const exit = new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });
      for await (const line of lines) {
        const s = STRING_LINE.exec(line);
        if (s && current) {
          if (current.match.strings.length < MAX_YARA_STRINGS_PER_RULE) {
            const offset = parseInt(s[1]!, 16);
            const length = Number(s[2]);
            current.match.strings.push({ identifier: s[3]!, offset, length, data: matchData(batch[current.file]!.content, offset, length) });
          }
          continue;
        }
        const r = RULE_LINE.exec(line);
        const file = r ? indexOf.get(r[2]!) : undefined;
        if (r && file !== undefined) {
          const info = this.assembled.table.get(r[1]!);
          const match: YaraMatch = {
            rule: info?.rule ?? r[1]!,
            namespace: info?.namespace ?? 'default',
            tags: [...(info?.tags ?? [])],
            meta: { ...(info?.meta ?? {}) },
            strings: [],
          };
          results[file]!.push(match);
          current = { file, match };
        } else {
          current = undefined;
        }
      }
      const code = await exit;
      clearTimeout(killTimer);
      for (const raw of stderr.split('\n')) {
        const m = /^error scanning (\S+): (.*)$/.exec(raw.trim());
        const file = m ? indexOf.get(m[1]!) : undefined;
        if (file !== undefined) failures.set(file, m![2]!);
      }
      if (code !== 0 && failures.size === 0) throw new Error(`yara exited with ${code ?? 'a signal'}: ${stderr.trim().slice(0, 500)}`);
      batch.forEach((p, i) => {
        const failure = failures.get(i);
        if (failure !== undefined) p.reject(new Error(`yara could not scan the file: ${failure}`));
        else p.resolve(results[i]!);
      });
    } finally {
      await rm(batchDir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    await Promise.allSettled([...this.running]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
