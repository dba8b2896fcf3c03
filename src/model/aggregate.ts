/**
 * "The state of the registry": figures over every image a results store judged (`detonate report --aggregate`, the
 * site's dashboard). The store computes them (src/store/aggregate.ts); the report renders them.
 */
import { MALICIOUS_CATEGORIES, type FindingCategory } from './categories.js';

export type WorstSeverity = 'critical' | 'high' | 'moderate' | 'low' | 'unknown' | 'none';

export interface CategoryFigure {
  category: FindingCategory;
  /** Images with a finding of this category (any severity) in their result. */
  images: number;
  /** Of those, images judged malicious. */
  malicious: number;
  repositories: number;
  /** Pulls of those repositories; null when no source gave a pull count for any of them. */
  pulls: number | null;
}

export interface Ranked {
  value: string;
  images: number;
}

export interface AggregateReport {
  generatedAt: string;
  /** When the first and the last result were made; null when the store has none. */
  window: { from: string | null; to: string | null };
  images: {
    /** Images (digest and platform) with a done scan. */
    judged: number;
    /** Of those, images that ran in a sandbox. */
    detonated: number;
    /** Tags (registry, repository, tag, platform) that named a judged image. */
    tags: number;
    repositories: number;
    malicious: number;
    /** Pulls of the repositories with a malicious image; null when unknown for all. */
    maliciousPulls: number | null;
  };
  /** References whose latest attempt did not end with a result: failed (by stage) or skipped (by reason). */
  unfinished: { failed: number; skipped: number; failedByStage: Ranked[]; skippedByReason: Ranked[] };
  /** Images by the worst severity among their vulnerabilities ("none": no known vulnerability; not matched: no DB). */
  worstSeverity: Record<WorstSeverity, number>;
  /** Images matched against no advisory DB. */
  notMatched: number;
  categories: CategoryFigure[];
  /** Linux images carrying Windows programs judged malware (`windows-malware`). */
  windowsMalwareInLinux: { images: number; pulls: number | null };
  top: { vulnerabilities: Array<Ranked & { severity: string }>; pools: Ranked[]; wallets: Ranked[]; domains: Ranked[]; attackTools: Ranked[] };
  /** Results per day they were made (UTC). */
  byDay: Array<{ date: string; judged: number; malicious: number }>;
}

/** The categories that make an image malicious, and attack tools: the headline figures, in the report's order. */
export function threatCategories(report: AggregateReport): CategoryFigure[] {
  return report.categories.filter((c) => MALICIOUS_CATEGORIES.has(c.category) || c.category === 'hacking-tool');
}
