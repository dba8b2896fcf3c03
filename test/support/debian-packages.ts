/**
 * Real Debian packages as test input: `apt-get download` once into `.cache/debs/`, extracted once with
 * `dpkg-deb -x` into `.cache/debs/x/<name>/`. Tests use them to check rules against real third-party binaries.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const debsCacheDir = join(repoRoot, '.cache', 'debs');
const extractedDir = join(debsCacheDir, 'x');

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
}

/** Package name as it starts a `.deb` file name: `<name>_<version>_<arch>.deb`. */
function findDeb(name: string): string | undefined {
  const hit = readdirSync(debsCacheDir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  return hit === undefined ? undefined : join(debsCacheDir, hit);
}

/** The `.deb` of package `name`, downloaded into `.cache/debs/` if it is not there yet. */
export function debianPackageFile(name: string): string {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`not a Debian package name: ${name}`);
  mkdirSync(debsCacheDir, { recursive: true });
  let deb = findDeb(name);
  if (deb === undefined) {
    run('apt-get', ['download', name], debsCacheDir);
    deb = findDeb(name);
    if (deb === undefined) throw new Error(`apt-get download ${name} left no ${name}_*.deb in ${debsCacheDir}`);
  }
  return deb;
}

/**
 * The directory holding the extracted files of Debian package `name` (e.g. `<dir>/usr/bin/nmap`).
 * Extraction goes to a temporary directory renamed into place, so an interrupted run leaves no half tree.
 */
export function debianPackageDir(name: string): string {
  const target = join(extractedDir, name);
  if (existsSync(target)) return target;
  const deb = debianPackageFile(name);
  mkdirSync(extractedDir, { recursive: true });
  const partial = mkdtempSync(join(extractedDir, `.${name}.partial-`));
  try {
    run('dpkg-deb', ['-x', deb, partial], extractedDir);
    try {
      renameSync(partial, target);
    } catch (err) {
      // another process finished first: its tree is as good as ours
      if (!existsSync(target)) throw err;
      rmSync(partial, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  return target;
}
