import type { Analyzer } from './analyzer.js';
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
];
