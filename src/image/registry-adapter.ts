import type { ImageSource, OpenSourceOptions } from './types.js';
import { openRegistrySource } from './registry/index.js';

/** Registry references go to the OCI Distribution client; loaded only when a reference needs it. */
export async function openRegistrySourceFor(text: string, options: OpenSourceOptions): Promise<ImageSource> {
  return openRegistrySource(text, options);
}
