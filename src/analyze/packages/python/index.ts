import type { Analyzer } from '../../analyzer.js';
import { parsePythonFile, pythonFileKind } from './parse.js';

/**
 * Python packages: installed distributions (dist-info / egg-info metadata) and the pins of requirements files and
 * Pipenv, Poetry, uv and PDM lock files. Names keep their spelling; purls use the PEP 503 normalised name, so the
 * same distribution found installed and locked is listed once.
 */
export const pythonAnalyzer: Analyzer = {
  name: 'python',
  version: 1,
  wants: (path) => pythonFileKind(path) !== undefined,
  analyze(file) {
    const kind = pythonFileKind(file.path);
    if (!kind) return {};
    const { packages, notices } = parsePythonFile(kind, file.content);
    return { packages, notices };
  },
};
