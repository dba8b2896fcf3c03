import type { Analyzer, AnalysisOutput, AnalyzedFile, AnalyzerContext } from '../../analyzer.js';
import { catalogJavaArchive } from './archive.js';
import { javaArchiveExtension } from './parse.js';

/**
 * Java archives (jar, war, ear, par, Jenkins hpi/jpi, ZAP add-ons …): Maven coordinates from each pom.properties,
 * else the manifest, else the file name; nested archives are read too, as deep and as large as the context allows.
 * Packages are named `group:artifact` with a `pkg:maven/group/artifact@version` purl.
 */
export const javaArchiveAnalyzer: Analyzer = {
  name: 'java-archive',
  version: 1,
  wants: (path) => javaArchiveExtension(path) !== undefined,
  analyze(file: AnalyzedFile, context: AnalyzerContext): AnalysisOutput {
    const { packages, notices } = catalogJavaArchive(file.content, file.path, {
      maxDepth: context.maxNestedArchiveDepth,
      maxExpandedBytes: context.maxNestedArchiveBytes,
    });
    const out: AnalysisOutput = { packages };
    if (notices.length > 0) out.notices = notices;
    return out;
  },
};
