import { inflateSync } from 'node:zlib';
import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl } from '../../../model/index.js';
import { MAX_RUST_AUDIT_JSON_BYTES, MAX_RUST_AUDIT_PACKAGES } from '../../limits.js';

export class AuditDataError extends Error {
  override readonly name = 'AuditDataError';
}

export interface AuditPackage {
  name: string;
  version: string;
  /** `crates.io`, `git`, `local`, `registry`, or another source's name. */
  source: string;
  kind: 'runtime' | 'build';
  dependencies: number[];
  root: boolean;
}

export interface AuditData {
  format: number;
  packages: AuditPackage[];
}

/** Expands the zlib stream of a `.dep-v0` section, refusing to expand beyond `maxBytes`. */
export function inflateAuditData(compressed: Buffer, maxBytes = MAX_RUST_AUDIT_JSON_BYTES): string {
  try {
    return inflateSync(compressed, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new AuditDataError(`dependency data expands beyond ${maxBytes} bytes`);
    throw new AuditDataError(`dependency data is not a zlib stream: ${(err as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the JSON against the cargo-auditable schema (what this reader relies on), entry by entry. */
export function parseAuditJson(text: string): AuditData {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AuditDataError(`dependency data is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc) || !Array.isArray(doc.packages)) throw new AuditDataError('dependency data has no "packages" list');
  if (doc.packages.length > MAX_RUST_AUDIT_PACKAGES) throw new AuditDataError(`dependency data lists ${doc.packages.length} packages`);
  const count = doc.packages.length;
  const packages = doc.packages.map((p: unknown, i: number): AuditPackage => {
    if (!isRecord(p) || typeof p.name !== 'string' || p.name === '' || typeof p.version !== 'string' || p.version === '') {
      throw new AuditDataError(`package ${i} has no name or version`);
    }
    // The source is a plain string; an older serialisation wrote {"Other": "name"} for unknown sources.
    const source = typeof p.source === 'string' ? p.source : isRecord(p.source) && typeof p.source.Other === 'string' ? p.source.Other : 'unknown';
    const deps = p.dependencies ?? [];
    if (!Array.isArray(deps) || !deps.every((d) => Number.isInteger(d) && d >= 0 && d < count)) {
      throw new AuditDataError(`package ${p.name} has dependency indices outside the list`);
    }
    return { name: p.name, version: p.version, source, kind: p.kind === 'build' ? 'build' : 'runtime', dependencies: deps as number[], root: p.root === true };
  });
  return { format: typeof doc.format === 'number' ? doc.format : 0, packages };
}

/**
 * Cargo packages compiled into the binary. Build-time dependencies (build scripts, proc-macros) do not end up in
 * the program, so they are left out, as Trivy and Syft do; the root package is the program's own crate.
 */
export function auditPackages(data: AuditData): CatalogedPackage[] {
  const out = new Map<string, CatalogedPackage>();
  for (const p of data.packages) {
    if (p.kind === 'build') continue;
    let purl: string;
    try {
      purl = packageUrl('cargo', undefined, p.name, p.version);
    } catch {
      continue;
    }
    if (out.has(purl)) continue;
    const metadata: Record<string, string | boolean | number> = { source: p.source };
    if (p.root) metadata.root = true;
    out.set(purl, { name: p.name, version: p.version, type: 'cargo', purl, metadata });
  }
  return [...out.values()];
}
