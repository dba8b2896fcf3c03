import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { repoRoot } from './paths.js';
import { assertValidReport } from './report-schema.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function optionValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === name) value = args[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

/**
 * The JSON report a `scan` run wrote, if any: `--format json`, or no `--format` (json is the default when stdout
 * is not a terminal, as here); on stdout, or in the `--output` file. Undefined when the run wrote no parseable JSON.
 */
function writtenReport(args: readonly string[], stdout: string): { where: string; report: unknown } | undefined {
  if (args[0] !== 'scan' || args.includes('--help') || args.includes('-h')) return undefined;
  if ((optionValue(args, '--format') ?? 'json') !== 'json') return undefined;
  const output = optionValue(args, '--output');
  let where = 'stdout';
  let text = stdout;
  if (output !== undefined) {
    const file = isAbsolute(output) ? output : join(repoRoot, output);
    if (!existsSync(file)) return undefined;
    where = output;
    text = readFileSync(file, 'utf8');
  }
  if (text.trim() === '') return undefined;
  try {
    return { where, report: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * Runs the CLI from source (through tsx) as a user would, with its own cache dir. A JSON report it writes must
 * validate against the report schema: otherwise the run rejects with the schema's errors.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`detonate ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const written = writtenReport(args, stdout);
        if (written) assertValidReport(written.report, `the JSON report of detonate ${args.join(' ')} (${written.where})`);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      resolve({ code, stdout, stderr });
    });
  });
}
