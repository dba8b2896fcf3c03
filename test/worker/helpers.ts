/**
 * For worker tests: `detonate worker` as a real child process of the CLI (from source, through tsx), small images
 * pushed to a loopback registry, and what the store holds afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { writeOciArchive, type BuiltImage } from '../support/image-builder.js';
import { repoRoot } from '../support/paths.js';
import type { RealRegistry } from '../support/registry.js';

export interface WorkerProcess {
  child: ChildProcess;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until stderr matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `detonate worker ARGS…` with its own cache dir (`env.DETONATE_CACHE_DIR`): a machine of its own. */
export function startWorker(args: string[], env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(stderr);
          if (!m) return false;
          cleanup();
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`the worker did not print ${pattern} in ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        void exited.then(() => setTimeout(() => {
          if (!check()) {
            cleanup();
            reject(new Error(`the worker exited without printing ${pattern}:\n${stderr}`));
          }
        }, 50));
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = () => void check();
        listeners.add(listener);
        check();
      });
    },
  };
}

/** Waits for the worker to exit (killing it after `timeoutMs`); its exit code. */
export async function finished(worker: WorkerProcess, timeoutMs = 90_000): Promise<number | null> {
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
  const { code } = await worker.exited;
  clearTimeout(timer);
  return code;
}

/** Polls `condition` every 50 ms until it holds. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestImage {
  repository: string;
  tags: string[];
  built: BuiltImage;
}

const BASE_LAYER = {
  entries: [
    { name: 'etc/', type: 'directory' as const },
    { name: 'etc/os-release', content: 'ID=detonate-test\nVERSION_ID=1\n' },
    { name: 'bin/', type: 'directory' as const },
    { name: 'bin/hello', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
  ],
};

/**
 * Pushes `count` small images (a base layer they all share and a layer of their own) as `images/nN:1`, with a
 * second tag `latest` for the first `aliases` of them (tags that resolve to one digest).
 */
export async function pushTestImages(registry: RealRegistry, dir: string, count: number, aliases: number): Promise<TestImage[]> {
  const images: TestImage[] = [];
  for (let n = 0; n < count; n++) {
    const archive = join(dir, `n${n}.tar`);
    const built = await writeOciArchive(archive, {
      layers: [BASE_LAYER, { entries: [{ name: 'app/', type: 'directory' }, { name: 'app/id', content: `image ${n}\n` }] }],
    });
    const repository = `images/n${n}`;
    const tags = n < aliases ? ['1', 'latest'] : ['1'];
    for (const tag of tags) await registry.push(`oci-archive:${archive}`, `${repository}:${tag}`);
    images.push({ repository, tags, built });
  }
  return images;
}

/** Rows of the store at `url`. */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Done scans per image digest, and every scan's status. */
export async function scanCounts(url: string): Promise<{ doneByDigest: Map<string, number>; statuses: Record<string, number> }> {
  const done = await query<{ image_digest: string; n: number }>(url, "SELECT image_digest, count(*)::int AS n FROM scans WHERE status = 'done' GROUP BY image_digest");
  const statuses = await query<{ status: string; n: number }>(url, 'SELECT status, count(*)::int AS n FROM scans GROUP BY status');
  return { doneByDigest: new Map(done.map((r) => [r.image_digest, r.n])), statuses: Object.fromEntries(statuses.map((r) => [r.status, r.n])) };
}
