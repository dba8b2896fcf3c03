import type { Finding, OsInfo, Package, ScanNotice } from '../../src/model/index.js';
import type { Analyzer, FileHeader } from '../../src/analyze/analyzer.js';
import { analyzeLayerFiles } from '../../src/analyze/runner.js';
import { mergeLayers } from '../../src/analyze/merge.js';

export interface TreeFile {
  path: string;
  content: Buffer | string;
  mode?: number;
  type?: FileHeader['type'];
  linkname?: string;
}

/**
 * Runs analyzers over an in-memory tree exactly as over one image layer (same runner, same merge),
 * for cataloger and detector tests and fixtures: `analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content }])`.
 */
export async function analyzeFiles(
  analyzers: readonly Analyzer[],
  files: readonly TreeFile[],
): Promise<{ packages: Package[]; findings: Finding[]; os: OsInfo | null; notices: ScanNotice[] }> {
  const layer = await analyzeLayerFiles(analyzers, 'sha256:test', files.map((f) => ({
    header: {
      path: f.path.replace(/^\/+/, ''),
      type: f.type ?? 'file',
      size: Buffer.byteLength(f.content),
      mode: f.mode ?? 0o644,
      linkname: f.linkname,
    },
    content: Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content),
  })));
  const merged = mergeLayers([layer]);
  return { packages: merged.packages, findings: merged.findings, os: merged.os, notices: merged.notices };
}
