/** The verdict step over a hand-made report, as the scan runs it over the stages' results. */
import type { Report } from '../../src/model/index.js';
import { decideVerdict, type DecideVerdictOptions } from '../../src/verdict/index.js';

/**
 * `report` judged: its findings and vulnerabilities as the stages found them, its `behavior` as the run (the
 * behaviour rules run over it here, so the report must not hold their findings already).
 */
export function judgeReport(report: Report, options: DecideVerdictOptions = {}): Report {
  const judged = decideVerdict(
    { findings: report.findings, vulnerabilities: report.vulnerabilities, run: report.behavior, notices: report.notices ?? [], vulnerabilitiesChecked: Boolean(report.tool.advisoryDb) },
    options,
  );
  return {
    ...report,
    findings: judged.findings,
    vulnerabilities: judged.vulnerabilities,
    ...(judged.suppressed ? { suppressed: [...(report.suppressed ?? []), ...judged.suppressed] } : {}),
    notices: [...(report.notices ?? []), ...judged.notices],
    verdict: judged.verdict,
  };
}
