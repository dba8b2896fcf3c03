import { createHash } from 'node:crypto';
import type { Analyzer } from '../analyze/analyzer.js';
import { imageCheckKey, type ImageCheck } from '../analyze/image-check.js';
import { analyzerKey } from '../analyze/runner.js';
import type { VerdictRules } from '../verdict/index.js';
import type { IgnoreList } from '../verdict/ignore.js';
import { parseImageRef } from '../image/ref.js';
import { storableText } from './rows.js';

export interface RulesInput {
  analyzers: readonly Analyzer[];
  imageChecks: readonly ImageCheck[];
  verdictRules: Pick<VerdictRules, 'digest'>;
  ignore: IgnoreList | null;
}

/**
 * What a scan's verdict rests on besides the image and the advisory DB, as one digest: the analyzers and image
 * checks with their versions and data, the behaviour and verdict rules, and the ignore entries. A stored scan is
 * the same scan again only when this, the tool version and the advisory DB are the same.
 */
export function rulesDigest(input: RulesInput): string {
  const parts = [analyzerKey(input.analyzers), imageCheckKey(input.imageChecks), input.verdictRules.digest, input.ignore ? input.ignore.entries : null];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * What a verdict is judged by once the image's stages have run: the behaviour and verdict rules and the ignore
 * entries. Part of a stored scan's match fingerprint (src/vuln/fingerprint.ts): a rematch judging by other rules
 * cannot take an image's old verdict as its own.
 */
export function judgingDigest(input: Pick<RulesInput, 'verdictRules' | 'ignore'>): string {
  return createHash('sha256').update(JSON.stringify([input.verdictRules.digest, input.ignore ? input.ignore.entries : null])).digest('hex').slice(0, 32);
}

/** `sha256(format + analyzer key)`: the layer_results key beside the diffID (the full key is long). */
export function analyzerKeyDigest(format: number, key: string): string {
  return createHash('sha256').update(`${format}\n${key}`).digest('hex');
}

export interface ImageName {
  registry: string;
  repository: string;
  /** '' when named by digest only. */
  tag: string;
}

const TRANSPORT = /^(docker-archive|oci-archive|oci):(.*)$/s;

/**
 * The registry, repository and tag a report's reference names: `docker.io` / `library/nginx` / `latest`; for a local
 * archive, the transport / the path as scanned / ''.
 */
export function imageNameOf(reference: string): ImageName {
  const local = TRANSPORT.exec(reference);
  if (local) return { registry: local[1]!, repository: storableText(local[2]!, 1024), tag: '' };
  try {
    const ref = parseImageRef(reference);
    return { registry: ref.registry, repository: ref.repository, tag: ref.tag ?? '' };
  } catch {
    return { registry: '', repository: storableText(reference, 1024), tag: '' };
  }
}
