import type { Report } from './model.js';

export const FORMATS = ['table', 'json', 'cyclonedx', 'spdx'] as const;
export type ReportFormat = (typeof FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  width?: number;
}

/** Renders reports in one of the output formats of the CLI contract. */
export function renderReports(format: ReportFormat, reports: Report[], _options: RenderOptions): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`;
    default:
      throw new Error(`format ${format} is not available yet`);
  }
}
