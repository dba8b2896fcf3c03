import type { Analyzer } from '../../analyzer.js';
import { gemFileKind, parseGemFile } from './parse.js';

/**
 * Ruby gems: installed specifications (`…/specifications/*.gemspec`) and Bundler lock files. Both give
 * `pkg:gem/name@version`, so a gem found installed and locked is listed once.
 */
export const gemAnalyzer: Analyzer = {
  name: 'gem',
  version: 1,
  wants: (path) => gemFileKind(path) !== undefined,
  analyze(file) {
    const kind = gemFileKind(file.path);
    if (!kind) return {};
    try {
      const { packages, notices } = parseGemFile(kind, file.content);
      return { packages, notices };
    } catch (err) {
      return { notices: [{ level: 'warning', message: `${kind} could not be parsed: ${(err as Error).message}` }] };
    }
  },
};
