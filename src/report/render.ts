import type { Report } from './model.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';
import { renderCycloneDx } from './cyclonedx.js';
import { renderSpdx } from './spdx.js';

export const FORMATS = ['table', 'json', 'cyclonedx', 'spdx'] as const;
export type ReportFormat = (typeof FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  width?: number;
}

/** Renders reports in one of the output formats of the CLI contract. */
export function renderReports(format: ReportFormat, reports: Report[], options: RenderOptions): string {
  switch (format) {
    case 'json':
      return renderJson(reports);
    case 'table':
      return renderTable(reports, options);
    case 'cyclonedx':
      return renderCycloneDx(reports);
    case 'spdx':
      return renderSpdx(reports);
  }
}
