import { mebibytes, jsonText, type ParseResult } from './collect.js';
import { parsePackageJson } from './package-json.js';
import { parsePackageLock } from './package-lock.js';
import { parsePnpmLock } from './pnpm-lock.js';
import { parseYarnLock } from './yarn-lock.js';
import { MAX_NPM_FILE_BYTES } from '../../limits.js';

export type NpmFileKind = 'package.json' | 'package-lock' | 'yarn.lock' | 'pnpm-lock';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Which JavaScript file this is, from its name alone (cheap: called for every file of every layer). */
export function npmFileKind(path: string): NpmFileKind | undefined {
  if (!path.endsWith('.json') && !path.endsWith('.lock') && !path.endsWith('.yaml')) return undefined;
  const base = baseName(path);
  if (base === 'package.json') return 'package.json';
  let kind: NpmFileKind | undefined;
  if (base === 'package-lock.json' || base === 'npm-shrinkwrap.json') kind = 'package-lock';
  else if (base === 'yarn.lock') kind = 'yarn.lock';
  else if (base === 'pnpm-lock.yaml') kind = 'pnpm-lock';
  // A lock file inside node_modules came with a published package and lists its authors' dev setup, not what is
  // installed here (Trivy skips these too).
  if (kind && (path.startsWith('node_modules/') || path.includes('/node_modules/'))) return undefined;
  return kind;
}

/** Parses one JavaScript manifest or lock file; malformed or oversized input becomes a notice, never an exception. */
export function parseNpmFile(kind: NpmFileKind, content: Buffer): ParseResult {
  if (content.length > MAX_NPM_FILE_BYTES[kind]) {
    return {
      packages: [],
      notices: [{ level: 'warning', message: `${kind} is ${mebibytes(content.length)}, over the ${mebibytes(MAX_NPM_FILE_BYTES[kind])} limit: not read` }],
    };
  }
  try {
    switch (kind) {
      case 'package.json':
        return parsePackageJson(jsonText(content));
      case 'package-lock':
        return parsePackageLock(jsonText(content));
      case 'yarn.lock':
        return parseYarnLock(content.toString('utf8'));
      case 'pnpm-lock':
        return parsePnpmLock(content.toString('utf8'));
    }
  } catch (err) {
    return { packages: [], notices: [{ level: 'warning', message: `${kind} could not be parsed: ${describe(err)}` }] };
  }
}

function describe(err: unknown): string {
  const message = err instanceof Error ? (/call stack/i.test(err.message) ? 'nested too deeply' : err.message) : String(err);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
