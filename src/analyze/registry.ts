import { PACKAGE_TYPES, type PackageType } from '../model/index.js';
import type { Analyzer } from './analyzer.js';
import type { ImageCheck } from './image-check.js';
import { windowsMalwareCheck } from './threats/windows/index.js';
import { executablesAnalyzer } from './threats/executables/index.js';
import { secretsAnalyzer } from './threats/secrets/index.js';
import { cryptominerAnalyzer } from './threats/cryptominer/index.js';
import { backdoorAnalyzer } from './threats/backdoor/index.js';
import { configChecks } from './config/index.js';
import { hackingToolPackages } from './threats/hacking-tool/packages.js';
import { osReleaseAnalyzer } from './os/index.js';
import { dpkgAnalyzer } from './packages/dpkg/index.js';
import { apkAnalyzer } from './packages/apk/index.js';
import { rpmAnalyzer } from './packages/rpm/index.js';
import { npmAnalyzer } from './packages/npm/index.js';
import { pythonAnalyzer } from './packages/python/index.js';
import { gemAnalyzer } from './packages/gem/index.js';
import { dotnetAnalyzer } from './packages/dotnet/index.js';
import { goBinaryAnalyzer } from './packages/golang/index.js';
import { rustAuditAnalyzer } from './packages/rust/index.js';
import { javaArchiveAnalyzer } from './packages/java/index.js';
import { createUnpackAnalyzer } from './unpack/index.js';

/**
 * The cataloger of each package ecosystem of the model's table (`src/model/ecosystems.ts`): an ecosystem added
 * there without a cataloger here does not compile. One cataloger may serve several (none does today).
 */
export const catalogers: Readonly<Record<PackageType, Analyzer>> = {
  deb: dpkgAnalyzer,
  apk: apkAnalyzer,
  rpm: rpmAnalyzer,
  npm: npmAnalyzer,
  pypi: pythonAnalyzer,
  gem: gemAnalyzer,
  golang: goBinaryAnalyzer,
  maven: javaArchiveAnalyzer,
  nuget: dotnetAnalyzer,
  cargo: rustAuditAnalyzer,
};

/** The threat detectors that read files (`threats/<detector>/`). */
export const threatDetectors: readonly Analyzer[] = [executablesAnalyzer, secretsAnalyzer, cryptominerAnalyzer, backdoorAnalyzer];

/**
 * Every file analyzer the static stage runs, in one list: the OS, the catalogers in the table's order, the detectors.
 * Adding an ecosystem: a line in the model's table and its module under `packages/<ecosystem>/`, named above;
 * a detector: its module under `threats/<detector>/`, named in `threatDetectors`.
 */
export const fileAnalyzers: readonly Analyzer[] = [osReleaseAnalyzer, ...new Set(PACKAGE_TYPES.map((t) => catalogers[t])), ...threatDetectors];

/** `analyzers` and, last, the unpacking that runs their payload scanners (`scansPayloads`) on what files hold (unpack/). */
export function withUnpacking(analyzers: readonly Analyzer[]): Analyzer[] {
  return [...analyzers, createUnpackAnalyzer(analyzers)];
}

/** The file analyzers, with unpacking (YARA and `--hashes` are added per run: see detectors.ts). */
export const defaultAnalyzers: readonly Analyzer[] = withUnpacking(fileAnalyzers);

/**
 * Image-level checks, in the order they run (each sees the findings of those before it): detectors of the config,
 * history and merged file modes first, then correlations over their findings.
 */
export const defaultImageChecks: readonly ImageCheck[] = [...configChecks, hackingToolPackages, windowsMalwareCheck];
