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

/**
 * Every analyzer the static stage runs, in one list. Adding an ecosystem or detector: write its module under
 * `packages/<ecosystem>/` or `threats/<detector>/` and add it here.
 */
export const defaultAnalyzers: readonly Analyzer[] = [
  osReleaseAnalyzer,
  dpkgAnalyzer,
  apkAnalyzer,
  rpmAnalyzer,
  npmAnalyzer,
  pythonAnalyzer,
  gemAnalyzer,
  dotnetAnalyzer,
  goBinaryAnalyzer,
  rustAuditAnalyzer,
  javaArchiveAnalyzer,
  executablesAnalyzer,
  secretsAnalyzer,
  cryptominerAnalyzer,
  backdoorAnalyzer,
];

/**
 * Image-level checks, in the order they run (each sees the findings of those before it): detectors of the config,
 * history and merged file modes first, then correlations over their findings.
 */
export const defaultImageChecks: readonly ImageCheck[] = [...configChecks, hackingToolPackages, windowsMalwareCheck];
