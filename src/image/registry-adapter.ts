import { ImageError } from './errors.js';
import type { OpenSourceOptions } from './open.js';
import type { ImageSource } from './types.js';

/** Registry references: wired to the OCI Distribution client in src/image/registry/. */
export async function openRegistrySourceFor(text: string, _options: OpenSourceOptions): Promise<ImageSource> {
  throw new ImageError(`registry references are not supported yet: ${text}`);
}
