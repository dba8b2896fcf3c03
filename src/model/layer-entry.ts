/** What the layer walker knows about a file before reading it. */
export interface FileHeader {
  /** Normalised path inside the image: no leading slash, no `.`/`..` segments, e.g. `var/lib/dpkg/status`. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  mode: number;
  uid?: number;
  gid?: number;
  /** Target of a symlink or hardlink (hardlink targets are normalised like `path`). */
  linkname?: string;
}
