import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** `../shared` beside the checkout: DESIGN.md, corpus/, images/ (read-only). */
export const sharedDir = process.env.DETONATE_SHARED_DIR ?? join(repoRoot, '..', 'shared');
export const corpusDir = join(sharedDir, 'corpus');
export const imagesDir = join(sharedDir, 'images');
