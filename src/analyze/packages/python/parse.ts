import { decodeText, mebibytes, type ParseResult } from './collect.js';
import { parsePipfileLock, parseTomlLock } from './locks.js';
import { parseCoreMetadata } from './metadata.js';
import { parseRequirements } from './requirements.js';
import { MAX_PYTHON_FILE_BYTES } from '../../limits.js';

const EGG_INFO_FILE = /\.egg-info$/i;

export type PythonFileKind = 'metadata' | 'requirements' | 'Pipfile.lock' | 'poetry.lock' | 'uv.lock' | 'pdm.lock';

/**
 * Which Python file this is, from its path alone (cheap: called for every file of every layer). Installed
 * distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `EGG-INFO/PKG-INFO` (inside `.egg` directories),
 * and `*.egg-info` written as a single file (distutils). Directory-name checks ignore case, as Syft's do.
 */
export function pythonFileKind(path: string): PythonFileKind | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (base === 'METADATA' || base === 'PKG-INFO') {
    if (slash < 0) return undefined;
    const parent = path.slice(path.lastIndexOf('/', slash - 1) + 1, slash).toLowerCase();
    if (base === 'METADATA' ? parent.endsWith('dist-info') : parent.endsWith('egg-info')) return 'metadata';
    return undefined;
  }
  let declared: PythonFileKind | undefined;
  if (base.endsWith('.txt')) declared = base.includes('requirements') ? 'requirements' : undefined;
  else if (base === 'Pipfile.lock' || base === 'poetry.lock' || base === 'uv.lock' || base === 'pdm.lock') declared = base;
  if (declared) {
    // Requirement and lock files shipped inside an installed distribution describe its authors' setup, not this image.
    return path.includes('site-packages/') || path.includes('dist-packages/') ? undefined : declared;
  }
  if (base.length > '.egg-info'.length && EGG_INFO_FILE.test(base)) return 'metadata';
  return undefined;
}

/** Parses one Python metadata, requirements or lock file; malformed or oversized input becomes a notice. */
export function parsePythonFile(kind: PythonFileKind, content: Buffer): ParseResult {
  if (content.length > MAX_PYTHON_FILE_BYTES[kind]) {
    return {
      packages: [],
      notices: [{ level: 'warning', message: `${kind} file is ${mebibytes(content.length)}, over the ${mebibytes(MAX_PYTHON_FILE_BYTES[kind])} limit: not read` }],
    };
  }
  try {
    const text = decodeText(content);
    switch (kind) {
      case 'metadata':
        return parseCoreMetadata(text);
      case 'requirements':
        return parseRequirements(text);
      case 'Pipfile.lock':
        return parsePipfileLock(text);
      case 'poetry.lock':
        return parseTomlLock('poetry', text);
      case 'uv.lock':
        return parseTomlLock('uv', text);
      case 'pdm.lock':
        return parseTomlLock('pdm', text);
    }
  } catch (err) {
    const message = err instanceof Error ? (/call stack/i.test(err.message) ? 'nested too deeply' : err.message) : String(err);
    return { packages: [], notices: [{ level: 'warning', message: `${kind} could not be parsed: ${message.slice(0, 200)}` }] };
  }
}
