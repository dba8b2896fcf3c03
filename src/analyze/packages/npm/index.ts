import type { Analyzer } from '../../analyzer.js';
import { npmFileKind, parseNpmFile } from './parse.js';

/**
 * JavaScript packages: installed ones (`node_modules/**\/package.json`, plus applications' own package.json) and
 * the lock files npm, Yarn and pnpm leave beside them. A package both installed and locked gets the same purl from
 * both, so the merge lists it once with both paths.
 */
export const npmAnalyzer: Analyzer = {
  name: 'npm',
  version: 1,
  wants: (path) => npmFileKind(path) !== undefined,
  analyze(file) {
    const kind = npmFileKind(file.path);
    if (!kind) return {};
    const { packages, notices } = parseNpmFile(kind, file.content);
    return { packages, notices };
  },
};
