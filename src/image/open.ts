import { ImageError } from './errors.js';
import type { ImageSource, OpenSourceOptions } from './types.js';

export type { OpenSourceOptions } from './types.js';
import { openDockerArchive } from './archive/docker-archive.js';
import { openOciArchive, openOciDirectory } from './archive/oci-layout.js';
import { promises as fs } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { LocalDigests } from './archive/local-digests.js';


/** Transports of the CLI contract, as skopeo names them. */
const TRANSPORTS = ['docker-archive:', 'oci-archive:', 'oci:'] as const;

/**
 * Splits `PATH[:TAG]` the way skopeo does, except that an existing file path wins, so paths with colons work.
 * Returns the path and the rest (tag, `repo:tag` or `@N`).
 */
async function splitPathAndSelector(spec: string): Promise<{ path: string; selector?: string }> {
  if (await fs.stat(spec).then(() => true, () => false)) return { path: spec };
  const at = /^(.*)@(\d+)$/.exec(spec);
  if (at && (await fs.stat(at[1]!).then(() => true, () => false))) return { path: at[1]!, selector: `@${at[2]}` };
  const colon = spec.indexOf(':');
  if (colon > 0) return { path: spec.slice(0, colon), selector: spec.slice(colon + 1) };
  return { path: spec };
}

/** Opens the source that an IMAGE argument names: an archive, a layout directory, or a registry reference. */
export async function openImageSource(text: string, options: OpenSourceOptions): Promise<ImageSource> {
  const transport = TRANSPORTS.find((t) => text.startsWith(t));
  if (transport) {
    const spec = text.slice(transport.length);
    if (!spec) throw new ImageError(`"${text}" names no path`, `write ${transport}PATH`);
    const { path, selector } = await splitPathAndSelector(spec);
    const absolute = resolvePath(path);
    const localDigests = new LocalDigests(join(dirname(options.cache.dir), 'local-digests'));
    const reference = `${transport}${absolute}${selector ? (selector.startsWith('@') ? selector : `:${selector}`) : ''}`;
    if (transport === 'docker-archive:') {
      return openDockerArchive(absolute, { reference, select: selector, limits: options.limits, platformExplicit: options.platformExplicit, localDigests });
    }
    const layoutOptions = { reference, tag: selector, limits: options.limits, platformExplicit: options.platformExplicit, localDigests };
    return transport === 'oci-archive:' ? openOciArchive(absolute, layoutOptions) : openOciDirectory(absolute, layoutOptions);
  }
  const { openRegistrySourceFor } = await import('./registry-adapter.js');
  return openRegistrySourceFor(text, options);
}
