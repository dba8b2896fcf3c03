import type { DecodeStep } from '../../model/index.js';

/** What some bytes are, from their first bytes (`sniff` in content.ts). */
export type ContentKind = 'gzip' | 'zlib' | 'tar' | 'zip' | 'elf' | 'pe' | 'script' | 'text' | 'data';

/** Something got out of a file: an archive member, a decoded blob, the program a self-extracting script carries. */
export interface Payload {
  content: Buffer;
  /** The steps that got it out of the file it was found in (one for most unpackers; the driver chains them). */
  steps: DecodeStep[];
  /**
   * The name it would have on disk (an archive member's path, a heredoc's target), or `decoded.<ext>` with the
   * extension of the language it is fed to: the detectors choose what to read by name, as for any file.
   */
  name: string;
  /** Mode bits it would have (a member's; 0o755 for a program). */
  mode: number;
}

/** What one unpacker looks at: a file of the image, or a payload one level up. */
export interface UnpackInput {
  /** The file's path in the image, or the payload's name. */
  name: string;
  content: Buffer;
  /** What the content is, sniffed once for every unpacker. */
  kind: ContentKind;
  /** Whether a member of this name, mode and size is worth getting out (some detector reads it, or it is an archive). */
  keep(name: string, mode: number, size: number): boolean;
}

/** What is left of one file's unpacking bounds, shared by every unpacker and depth. */
export interface UnpackBudget {
  bytesLeft: number;
  payloadsLeft: number;
  /** Why something was not unpacked (a bomb, a limit): becomes a notice on the file. */
  notes: string[];
}

/**
 * One way a payload hides (as Syft's catalogers and Trivy's analyzers, one module per kind behind this interface).
 * `unpack` must never throw on hostile input: it returns what it could get out, and notes what it refused.
 */
export interface Unpacker {
  readonly name: string;
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[];
}
