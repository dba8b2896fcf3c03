import { createHash } from 'node:crypto';
import type { DecodeStep, Finding, ScanNotice } from '../../model/index.js';
import type { AnalysisOutput, AnalyzedFile, Analyzer, AnalyzerContext, DetectedFinding, FileHeader } from '../analyzer.js';
import { candidateKinds, hasKind, Kind } from '../threats/candidates.js';
import { compressedUnpacker, tarUnpacker, zipUnpacker } from './archives.js';
import { sniff } from './content.js';
import { encodedUnpacker } from './encoded.js';
import { selfExtractingUnpacker } from './self-extracting.js';
import { analyzersWanting } from '../runner.js';
import type { ContentKind, Unpacker, UnpackBudget, UnpackInput } from './types.js';
import { MAX_PAYLOADS_PER_FILE, MAX_UNPACK_DEPTH, MAX_UNPACK_INPUT_BYTES, MAX_UNPACKED_BYTES_PER_FILE } from '../limits.js';

export type { Payload, Unpacker, UnpackBudget, UnpackInput } from './types.js';

/** Every way a payload hides, each its own module; a payload any of them gets out is tried by all of them again. */
export const unpackers: readonly Unpacker[] = [compressedUnpacker, tarUnpacker, zipUnpacker, selfExtractingUnpacker, encodedUnpacker];

/** Archives and compressed files, by name (their content is read only when they are named so). */
const ARCHIVE_NAME = /\.(?:tar|tgz|gz|z|zz|zip|jar|war|ear|whl|egg|apk|xpi)$/i;
/** Compressed manuals, change logs and locale data: thousands per image, and nothing runs them. */
const DOCUMENTATION = /^usr\/share\/(?:doc|man|info|i18n|locale|zoneinfo)\//;
/** Files whose text or appended data may hold a payload: scripts, crontabs and units, histories, web pages, configuration, programs. */
const HOLDER_KINDS = Kind.Script | Kind.Persistence | Kind.History | Kind.Web | Kind.Config | Kind.Executable;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The static stage's unpacking (issue 16): gets payloads out of files (archives, compressed data, self-extracting
 * scripts, heredocs, encoded blobs a script decodes), recursively within the bounds of `limits.ts`, and runs every
 * threat detector (`scansPayloads`) on each. Their findings are reported on the file in the image that held the
 * payload, with `payload`: the steps that got it out, outermost first, and the payload's digest and size.
 */
export function createUnpackAnalyzer(analyzers: readonly Analyzer[]): Analyzer {
  const { inner, wantedByInner, keep } = payloadScanners(analyzers);
  return {
    name: 'unpack',
    version: 1,
    configKey: shortHash(inner.map((a) => `${a.name}@${a.version}${a.configKey ? `#${a.configKey}` : ''}`).sort().join(',')),
    wants(path: string, header: FileHeader): boolean {
      if (header.type !== 'file' || header.size === 0 || header.size > MAX_UNPACK_INPUT_BYTES) return false;
      if (ARCHIVE_NAME.test(path)) {
        if (DOCUMENTATION.test(path)) return false;
        // `x.sh.gz` is worth opening when a detector would read `x.sh`; `x.tar.gz`, `x.zip` always are
        const inside = path.replace(/\.(?:gz|z|zz)$/i, '');
        return inside === path || ARCHIVE_NAME.test(inside) || wantedByInner({ ...header, path: inside });
      }
      return hasKind(candidateKinds(path, header), HOLDER_KINDS);
    },
    async analyze(file: AnalyzedFile, context: AnalyzerContext): Promise<AnalysisOutput> {
      const { findings, notes } = await unpackAndAnalyze(file.path, file.content, inner, keep, context);
      return { findings, notices: notes.map((message) => ({ level: 'warning', message, path: file.path })) };
    },
  };
}

/** The analyzers of `analyzers` that scan payloads, and which payloads are worth getting out for them. */
function payloadScanners(analyzers: readonly Analyzer[]): { inner: Analyzer[]; wantedByInner: (header: FileHeader) => boolean; keep: UnpackInput['keep'] } {
  const inner = analyzers.filter((a) => a.scansPayloads);
  const wantedByInner = (header: FileHeader) => analyzersWanting(inner, header).length > 0;
  const keep = (name: string, mode: number, size: number) => ARCHIVE_NAME.test(name) || wantedByInner({ path: name, type: 'file', size, mode });
  return { inner, wantedByInner, keep };
}

/**
 * Gets every payload out of `content` (the file at `path`, or a command of the image config) and runs `inner`'s
 * analyzers on each, depth first within the bounds. Findings carry `path` and `payload` (steps, digest, size); the
 * notes say what was refused or cut.
 */
async function unpackAndAnalyze(
  path: string,
  content: Buffer,
  inner: readonly Analyzer[],
  keep: UnpackInput['keep'],
  context: AnalyzerContext,
): Promise<{ findings: DetectedFinding[]; notes: string[] }> {
  const budget: UnpackBudget = { bytesLeft: MAX_UNPACKED_BYTES_PER_FILE, payloadsLeft: MAX_PAYLOADS_PER_FILE, notes: [] };
  const findings: DetectedFinding[] = [];
  const seen = new Set<string>();
  // depth first, so that at most one level's payloads per holder are in memory at once
  const stack: { name: string; content: Buffer; kind: ContentKind; steps: DecodeStep[]; depth: number }[] = [{ name: path, content, kind: sniff(content), steps: [], depth: 0 }];
  while (stack.length > 0) {
    const holder = stack.pop()!;
    const { kind } = holder;
    if (kind === 'elf' || kind === 'pe' || kind === 'data') continue;
    if (holder.depth >= MAX_UNPACK_DEPTH) {
      budget.notes.push(`payloads nested deeper than ${MAX_UNPACK_DEPTH} levels were not unpacked`);
      continue;
    }
    const found: typeof stack = [];
    for (const unpacker of unpackers) {
      let payloads;
      try {
        payloads = unpacker.unpack({ name: holder.name, content: holder.content, kind, keep }, budget);
      } catch (err) {
        budget.notes.push(`${unpacker.name} could not unpack ${holder.depth === 0 ? 'the file' : holder.name}: ${(err as Error).message}`);
        continue;
      }
      for (const payload of payloads) {
        const sha256 = createHash('sha256').update(payload.content).digest('hex');
        if (seen.has(sha256)) continue;
        seen.add(sha256);
        const steps = [...holder.steps, ...payload.steps];
        // a program or a `#!` script is analysed as one whatever mode its wrapper recorded
        const payloadKind = sniff(payload.content);
        const program = payloadKind === 'elf' || payloadKind === 'pe' || payloadKind === 'script';
        const header: FileHeader = { path: payload.name, type: 'file', size: payload.content.length, mode: payload.mode | (program ? 0o755 : 0) };
        for (const analyzer of analyzersWanting(inner, header)) {
          try {
            const out = await analyzer.analyze({ ...header, content: payload.content }, context);
            for (const f of out.findings ?? []) findings.push({ ...f, path, payload: { steps, sha256, size: payload.content.length } });
          } catch (err) {
            budget.notes.push(`${analyzer.name} could not read the payload ${payload.name}: ${(err as Error).message}`);
          }
        }
        found.push({ name: payload.name, content: payload.content, kind: payloadKind, steps, depth: holder.depth + 1 });
      }
    }
    stack.push(...found.reverse());
  }
  return { findings, notes: [...new Set(budget.notes)] };
}

/** A command or value of the image config that may carry an encoded payload, and where it is. */
export interface ConfigText {
  /** `config.Entrypoint`, `config.Cmd`, `config.Env`, `history` … */
  where: string;
  text: string;
  /** The build step and the layer it made, for history commands. */
  step?: number;
  layer?: number | null;
}

/** What a config command is wrapped in to be read as a shell script. */
const SCRIPT_PREFIX = '#!/bin/sh\n';

/**
 * Encoded payloads in the image config's commands (`CMD ["sh","-c","echo … | base64 -d | sh"]`, ENTRYPOINT, ENV
 * values, build history): each command is read as a shell script would be, and what it decodes goes through every
 * payload scanner of `analyzers`. The findings are the image configuration's (no path), with the payload's chain
 * and where the command is in their evidence.
 */
export async function configPayloadFindings(
  texts: readonly ConfigText[],
  analyzers: readonly Analyzer[],
  context: AnalyzerContext,
): Promise<{ findings: Finding[]; notices: ScanNotice[] }> {
  const { inner, keep } = payloadScanners(analyzers);
  const findings: Finding[] = [];
  const notices: ScanNotice[] = [];
  for (const t of texts) {
    if (t.text.length > MAX_UNPACK_INPUT_BYTES) continue;
    const out = await unpackAndAnalyze('config.sh', Buffer.from(`${SCRIPT_PREFIX}${t.text}\n`, 'latin1'), inner, keep, context);
    for (const { path: _path, payload, ...f } of out.findings) {
      // offsets into the command as given, not into the script it was wrapped in
      const steps = payload!.steps.map((step, i) => (i === 0 && step.offset !== undefined ? { ...step, offset: Math.max(0, step.offset - SCRIPT_PREFIX.length) } : step));
      findings.push({
        ...f,
        payload: { ...payload!, steps },
        source: f.source ?? 'static',
        ...(t.layer !== undefined && t.layer !== null ? { layer: t.layer } : {}),
        evidence: { ...(f.evidence ?? {}), config: t.where, ...(t.step !== undefined ? { step: t.step } : {}) },
      });
    }
    for (const message of out.notes) notices.push({ level: 'warning', message: `${t.where}: ${message}` });
  }
  return { findings, notices };
}
