/**
 * Why a job's scan failed, as the worker acts on it: the image's own fault is recorded as a failed scan (the job
 * is done); a passing failure of the registry, of the store or of this host is retried with backoff (the job);
 * a registry's rate limit defers the job without counting an attempt.
 */
import pg from 'pg';
import { DetonationInterrupted } from '../detonate/errors.js';
import { RegistryError } from '../image/registry/transport.js';
import { StoreError } from '../store/errors.js';
import { isStoreUnavailable } from '../store/retry.js';

export type FailureKind =
  /** 429 that outlasted the registry client's own retries (or asked for a longer wait than it makes). */
  | 'rate-limited'
  /** The registry failed (5xx, connections) even after the client's retries: retry the job, count it against the registry. */
  | 'registry'
  /** The store or this host (disk full, too many open files): retry the job. */
  | 'transient'
  /** The image (or its registry's answer about it: not found, denied, malformed, tampered): record a failed scan. */
  | 'image';

/** Error codes of this host's trouble, not the image's. */
const HOST_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EDQUOT']);

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof RegistryError) {
    if (err.status === 429) return 'rate-limited';
    if (err.exhausted || err.transient) return 'registry';
    return err.status !== undefined && err.status >= 500 ? 'registry' : 'image';
  }
  if (err instanceof pg.DatabaseError || err instanceof StoreError) return 'transient';
  // a detonation this worker stopped is no verdict on the image: another attempt runs it
  if (err instanceof DetonationInterrupted) return 'transient';
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (HOST_CODES.has(code) || isStoreUnavailable(err)) return 'transient';
  return 'image';
}

/** The first line of an error's message (hints follow on the next lines). */
export function failureMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || 'unknown error';
}

/** The whole message, hint included, for the failed scan's reason. */
export function failureReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

