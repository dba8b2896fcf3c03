import type { Report } from '../model/index.js';

export const FORMATS = ['table', 'json', 'cyclonedx', 'spdx', 'sarif', 'html'] as const;
export type ReportFormat = (typeof FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  width?: number;
}

/** Renders reports in one of the output formats of the CLI contract. Each renderer loads only when asked for. */
export async function renderReports(format: ReportFormat, reports: Report[], options: RenderOptions): Promise<string> {
  switch (format) {
    case 'json':
      return (await import('./json.js')).renderJson(reports);
    case 'table':
      return (await import('./table.js')).renderTable(reports, options);
    case 'cyclonedx':
      return (await import('./cyclonedx.js')).renderCycloneDx(reports);
    case 'spdx':
      return (await import('./spdx.js')).renderSpdx(reports);
    case 'sarif':
      return (await import('./sarif.js')).renderSarif(reports);
    case 'html':
      return (await import('./html.js')).renderHtml(reports);
  }
}
