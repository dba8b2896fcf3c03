/**
 * How many images a worker scans at once: at most one per core (the static stage is CPU-bound once the layers are
 * in, and a detonation's sandbox gets one CPU), and at most as many as the memory available now holds at a
 * budget per image: 512 MiB for the static stage (the analyzers' buffers, YARA, the parsed layers), plus the
 * sandbox's memory limit and 256 MiB for its runtime and monitor when the worker detonates. Only three quarters
 * of the available memory is counted, leaving room for the page cache and the rest of the machine.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';

import { SANDBOX_OVERHEAD_MEMORY_BYTES, STATIC_JOB_MEMORY_BYTES, USABLE_MEMORY_SHARE } from './limits.js';

const MiB = 1024 * 1024;

export interface ConcurrencyBound {
  /** What the worker runs. */
  concurrency: number;
  cores: number;
  memoryBound: number;
  /** Bytes counted per image. */
  perJobBytes: number;
  /** Why an asked concurrency was lowered, if it was. */
  lowered?: string;
}

/** MemAvailable from /proc/meminfo (free memory plus what the kernel can reclaim), else Node's free memory. */
export function availableMemory(meminfo: string | undefined = readMeminfo()): number {
  const m = meminfo ? /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo) : null;
  return m ? Number(m[1]) * 1024 : freemem();
}

function readMeminfo(): string | undefined {
  try {
    return readFileSync('/proc/meminfo', 'utf8');
  } catch {
    return undefined;
  }
}

export function concurrencyBound(options: {
  asked?: number;
  /** The sandbox's memory limit when the worker detonates; undefined: static only. */
  sandboxMemoryBytes?: number;
  cores?: number;
  availableBytes?: number;
}): ConcurrencyBound {
  const cores = options.cores ?? availableParallelism();
  const perJobBytes = STATIC_JOB_MEMORY_BYTES + (options.sandboxMemoryBytes !== undefined ? options.sandboxMemoryBytes + SANDBOX_OVERHEAD_MEMORY_BYTES : 0);
  const memoryBound = Math.max(1, Math.floor(((options.availableBytes ?? availableMemory()) * USABLE_MEMORY_SHARE) / perJobBytes));
  const bound = Math.max(1, Math.min(cores, memoryBound));
  if (options.asked === undefined) return { concurrency: bound, cores, memoryBound, perJobBytes };
  if (options.asked <= memoryBound) return { concurrency: options.asked, cores, memoryBound, perJobBytes };
  const mib = Math.round(perJobBytes / MiB);
  return {
    concurrency: memoryBound,
    cores,
    memoryBound,
    perJobBytes,
    lowered: `--concurrency ${options.asked} lowered to ${memoryBound}: the memory available now holds ${memoryBound} image(s) at ${mib} MiB each`,
  };
}
