import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DEFAULT_COMMAND_OUTPUT_BYTES, DEFAULT_COMMAND_TIMEOUT_MS } from '../limits.js';

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** The child is killed with SIGKILL after this long. Default 15 s. */
  timeoutMs?: number;
  /** Bytes kept of stdout and of stderr each; the rest is dropped and `truncated` set. Default 1 MiB. */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  /** Exit code, or null when the child died of a signal or could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  spawnError?: string;
}

/** Runs a program without a shell, with a deadline and bounded output. Never rejects. */
export function runBounded(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const maxBytes = options.maxOutputBytes ?? DEFAULT_COMMAND_OUTPUT_BYTES;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, [...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', timedOut: false, truncated: false, spawnError: String(err) });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    let spawnError: string | undefined;
    const keep = (chunks: Buffer[], len: number, chunk: Buffer): number => {
      const room = maxBytes - len;
      if (room <= 0) {
        truncated = true;
        return len;
      }
      if (chunk.length > room) truncated = true;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      return len + part.length;
    };
    child.stdout?.on('data', (c: Buffer) => (outLen = keep(out, outLen, c)));
    child.stderr?.on('data', (c: Buffer) => (errLen = keep(err, errLen, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.stdin?.on('error', () => {
      /* the child may exit before reading its input */
    });
    child.stdin?.end(options.input ?? '');
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        truncated,
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    });
  });
}

export function describeFailure(cmd: string, args: readonly string[], r: RunResult): string {
  const what = [cmd, ...args].join(' ');
  if (r.spawnError) return `${what}: could not start: ${r.spawnError}`;
  if (r.timedOut) return `${what}: timed out`;
  const detail = r.stderr.trim() || r.stdout.trim();
  return `${what}: exit ${r.code ?? r.signal}${detail ? `: ${detail.slice(0, 500)}` : ''}`;
}

/** Spawns without a shell; the caller owns the child. */
export function spawnChild(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(cmd, [...args], { env: process.env, ...options });
}

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

/** Directories searched for tools: PATH, then the sbin directories a non-login root shell may lack. */
export function toolSearchDirs(pathEnv: string | undefined = process.env.PATH): string[] {
  return [...(pathEnv ?? '').split(delimiter).filter((d) => d.startsWith('/')), ...SBIN_DIRS];
}

/** Absolute path of an executable found in `dirs`, or undefined. */
export function findExecutable(name: string, dirs: readonly string[] = toolSearchDirs()): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
