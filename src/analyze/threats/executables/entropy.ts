/** Shannon entropy of `bytes` in bits per byte (0 for empty input, 8 for uniformly random bytes). */
export function shannonEntropy(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < bytes.length; i++) counts[bytes[i]!]!++;
  let entropy = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const p = c / bytes.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** Entropy rounded to two decimals, as evidence shows it. */
export function roundEntropy(entropy: number): number {
  return Math.round(entropy * 100) / 100;
}

/** A section as judged for packing: its name, stored size, entropy, and whether it holds code. */
export interface SectionEntropy {
  name: string;
  size: number;
  entropy: number;
  executable: boolean;
}

/** Entropy is measured over at most this many bytes per file; sections past the budget are listed without it. */
export const ENTROPY_BYTE_BUDGET = 64 * 1024 * 1024;
/** Sections listed in evidence (code sections first); the rest are counted only. */
export const MAX_SECTIONS_IN_EVIDENCE = 24;
