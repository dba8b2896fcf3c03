import type { ImageConfigSummary, Package } from '../../src/model/index.js';
import type { HistoryStep, ImageFacts } from '../../src/analyze/image-check.js';
import { mergeLayers } from '../../src/analyze/merge.js';
import { LAYER_RESULT_FORMAT, type LayerEntryRecord, type LayerResult } from '../../src/analyze/runner.js';

/** One layer for `imageFacts`: the files it adds (mode defaults to 0644 regular file) and the paths it deletes. */
export interface TestLayer {
  files?: (Partial<LayerEntryRecord> & { path: string })[];
  whiteouts?: string[];
}

/**
 * `ImageFacts` for image-check tests, built the way a scan builds them (layers merged by the real merge):
 * `imageFacts({ config: { user: 'root' }, history: ['RUN curl … | sh'], layers: [{ files: [{ path: 'bin/sh', mode: 0o4755 }] }] })`.
 * History given as strings gets one layer per step, in order, while there are layers.
 */
export function imageFacts(parts: {
  config?: Partial<ImageConfigSummary>;
  history?: (string | HistoryStep)[];
  layers?: TestLayer[];
  packages?: Package[];
} = {}): ImageFacts {
  const layers: LayerResult[] = (parts.layers ?? []).map((layer, i) => ({
    format: LAYER_RESULT_FORMAT,
    diffId: `sha256:${String(i).padStart(64, '0')}`,
    analyzerKey: 'test',
    entries: (layer.files ?? []).map((f) => ({ type: 'file' as const, size: 1, mode: 0o644, ...f })),
    whiteouts: layer.whiteouts ?? [],
    opaqueDirs: [],
    analyses: [],
    notices: [],
    tarBytes: 0,
  }));
  const merged = mergeLayers(layers);
  const history = (parts.history ?? []).map((h, i): HistoryStep =>
    typeof h === 'string' ? { step: i, createdBy: h, layer: i < layers.length ? i : null } : h);
  return {
    config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {}, ...parts.config },
    history,
    layers,
    files: merged.files,
    removed: merged.removed,
    packages: parts.packages ?? [],
    findings: [],
  };
}
