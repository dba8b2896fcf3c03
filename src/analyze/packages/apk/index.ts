import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../../analyzer.js';
import { parseApkInstalled } from './parse.js';
import { MAX_APK_PACKAGES } from '../../limits.js';

/** apk-tools 2 keeps the database under lib/; apk-tools 3 on /usr-merged systems under usr/lib/. */
const APK_INSTALLED = new Set(['lib/apk/db/installed', 'usr/lib/apk/db/installed']);

/** Installed Alpine (and Wolfi, Chainguard …) packages from apk's database. */
export const apkAnalyzer: Analyzer = {
  name: 'apk',
  version: 1,
  wants: (path) => APK_INSTALLED.has(path),
  analyze(file: AnalyzedFile): AnalysisOutput {
    const text = file.content.toString('utf8');
    const result = parseApkInstalled(text);
    const notices: NonNullable<AnalysisOutput['notices']> = [];
    if (result.entries === 0 && text.trim() !== '') {
      notices.push({ level: 'warning', message: 'apk database has no package entries; it may be corrupt' });
    }
    if (result.capped) {
      notices.push({ level: 'warning', message: `more than ${MAX_APK_PACKAGES} packages; the rest ignored` });
    }
    if (result.malformed > 0) {
      notices.push({ level: 'warning', message: `${result.malformed} apk package entr${result.malformed === 1 ? 'y has' : 'ies have'} no usable name or version; skipped` });
    }
    return notices.length > 0 ? { packages: result.packages, notices } : { packages: result.packages };
  },
};
