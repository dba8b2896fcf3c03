import type { BinaryFormatName, BytePattern, ExecutableRules, PackerRule } from './rules.js';

/** A packer recognised in a file, and which of its signals matched (for the evidence). */
export interface PackerMatch {
  id: string;
  name: string;
  /** `section:UPX1`, `marker:UPX!@0x3db`, `entry-point` … */
  signals: string[];
  /** The entry point lies in a section of this packer, or the entry-point pattern matched. */
  atEntryPoint: boolean;
}

export interface PackerInput {
  format: BinaryFormatName;
  content: Buffer;
  sectionNames: string[];
  /** Name of the section holding the entry point, if known. */
  entrySection?: string;
  /** Bytes at the entry point (PE), if readable. */
  entryBytes?: Buffer;
  hasSectionTable: boolean;
}

function matchesPattern(bytes: Buffer, pattern: BytePattern): boolean {
  if (bytes.length < pattern.length) return false;
  return pattern.every((b, i) => b === null || bytes[i] === b);
}

function printableSignal(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

function matchPacker(rule: PackerRule, input: PackerInput, sectionHits: boolean): PackerMatch | undefined {
  const signals: string[] = [];
  let atEntryPoint = false;
  if (sectionHits) {
    for (const name of input.sectionNames) {
      if (rule.sections.has(name)) {
        signals.push(`section:${printableSignal(name)}`);
        if (name === input.entrySection) atEntryPoint = true;
      }
    }
  }
  for (const m of rule.markers) {
    if (!m.formats.includes(input.format) || (m.sectionless && input.hasSectionTable)) continue;
    let at: number;
    if (m.at !== undefined) at = input.content.subarray(m.at, m.at + m.bytes.length).equals(m.bytes) ? m.at : -1;
    else at = input.content.subarray(0, m.within).indexOf(m.bytes);
    if (at >= 0) signals.push(`marker:${printableSignal(m.bytes.toString('latin1'))}@0x${at.toString(16)}`);
  }
  if (input.entryBytes && rule.entryPoint.some((p) => matchesPattern(input.entryBytes!, p))) {
    signals.push('entry-point-code');
    atEntryPoint = true;
  }
  return signals.length > 0 ? { id: rule.id, name: rule.name, signals: [...new Set(signals)], atEntryPoint } : undefined;
}

/**
 * Every packer whose signals are in the file, the one that runs first (holds the entry point) first: a yoda's
 * Crypter layer over UPX reads as yoda-crypter, then upx.
 */
export function detectPackers(rules: ExecutableRules, input: PackerInput): PackerMatch[] {
  const packersBySection = sectionIndex(rules);
  const named = new Set<PackerRule>();
  for (const name of input.sectionNames) for (const rule of packersBySection.get(name) ?? []) named.add(rule);
  const found: PackerMatch[] = [];
  for (const rule of rules.packers) {
    // Most packers have only section names, and most files none of them: skip those without reading anything.
    if (!named.has(rule) && rule.markers.length === 0 && (rule.entryPoint.length === 0 || !input.entryBytes)) continue;
    const match = matchPacker(rule, input, named.has(rule));
    if (match) found.push(match);
  }
  return found.sort((a, b) => Number(b.atEntryPoint) - Number(a.atEntryPoint));
}

const sectionIndexes = new WeakMap<ExecutableRules, Map<string, PackerRule[]>>();

/** Section name → the packers that write a section of that name. */
function sectionIndex(rules: ExecutableRules): Map<string, PackerRule[]> {
  let index = sectionIndexes.get(rules);
  if (!index) {
    index = new Map();
    for (const rule of rules.packers) for (const name of rule.sections) index.set(name, [...(index.get(name) ?? []), rule]);
    sectionIndexes.set(rules, index);
  }
  return index;
}

/** Longest entry-point pattern, so callers read enough bytes at the entry point. */
export function entryPatternLength(rules: ExecutableRules): number {
  return rules.packers.reduce((max, r) => r.entryPoint.reduce((m, p) => Math.max(m, p.length), max), 0);
}
