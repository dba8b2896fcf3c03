import type { Analyzer } from '../../analyzer.js';
import { dotnetFileKind, parseDotnetFile } from './parse.js';

/** .NET NuGet packages from applications' `*.deps.json` and NuGet `packages.lock.json` files. */
export const dotnetAnalyzer: Analyzer = {
  name: 'dotnet',
  version: 1,
  wants: (path) => dotnetFileKind(path) !== undefined,
  analyze(file) {
    const kind = dotnetFileKind(file.path);
    if (!kind) return {};
    const { packages, notices } = parseDotnetFile(kind, file.content);
    return { packages, notices };
  },
};
