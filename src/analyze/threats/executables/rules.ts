import { z } from 'zod';
import { DataFileError, loadDataFile, parseDataFile } from '../../../config/data-file.js';

/** What `rules/executables.yaml` holds, validated and compiled for matching. */
export interface ExecutableRules {
  packers: PackerRule[];
  importCombos: ImportComboRule[];
  entropy: { highCode: number; minSectionBytes: number };
  hiddenLocations: { tempDirs: string[]; ordinaryDotDirs: Set<string> };
}

export type BinaryFormatName = 'pe' | 'elf';

export interface PackerMarker {
  bytes: Buffer;
  /** Searched within the first `within` bytes of the file. */
  within: number;
  /** Must start exactly at this offset. */
  at?: number;
  formats: BinaryFormatName[];
  /** Only in files without a section table (a packed ELF has none). */
  sectionless: boolean;
}

/** A byte pattern: `null` stands for a wildcard byte. */
export type BytePattern = (number | null)[];

export interface PackerRule {
  id: string;
  name: string;
  sections: Set<string>;
  markers: PackerMarker[];
  entryPoint: BytePattern[];
}

export interface ImportComboRule {
  id: string;
  /** The evidence field (under `pe.`) the matched imports go in. */
  field: string;
  description: string;
  /** Each group: base names, matched as name, name + 'A', name + 'W'. */
  groups: Set<string>[];
}

const HEX_PATTERN = /^([0-9A-Fa-f]{2}|\?\?)( ([0-9A-Fa-f]{2}|\?\?))*$/;
const HEX_BYTES = /^[0-9A-Fa-f]{2}( [0-9A-Fa-f]{2})*$/;
const format = z.enum(['pe', 'elf']);
const marker = z
  .object({
    text: z.string().min(1).optional(),
    hex: z.string().regex(HEX_BYTES, 'hex bytes separated by spaces').optional(),
    within: z.number().int().positive().optional(),
    at: z.number().int().nonnegative().optional(),
    formats: z.array(format).min(1).optional(),
    sectionless: z.boolean().optional(),
  })
  .strict()
  .refine((m) => (m.text === undefined) !== (m.hex === undefined), 'a marker has exactly one of text or hex')
  .refine((m) => m.within !== undefined || m.at !== undefined, 'a marker needs within or at');
const schema = z
  .object({
    packers: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case id'),
            name: z.string().min(1),
            sections: z.array(z.string().min(1).max(64)).optional(),
            markers: z.array(marker).optional(),
            entryPoint: z.array(z.string().regex(HEX_PATTERN, 'hex bytes separated by spaces, ?? for any byte')).optional(),
          })
          .strict(),
      )
      .min(1),
    importCombos: z.array(
      z
        .object({
          id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case id'),
          field: z.string().regex(/^[a-z][A-Za-z]*$/, 'camelCase field name'),
          description: z.string().min(1),
          groups: z.array(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).min(1)).min(1),
        })
        .strict(),
    ),
    entropy: z.object({ highCode: z.number().min(0).max(8), minSectionBytes: z.number().int().positive() }).strict(),
    hiddenLocations: z
      .object({
        tempDirs: z.array(z.string().regex(/^[^/].*\/$/, 'a relative directory ending in /')),
        ordinaryDotDirs: z.array(z.string().regex(/^\.[^/]+$/, 'a dot-directory name')),
      })
      .strict(),
  })
  .strict();

/** Raised when the rules file is unreadable or invalid; the message names the file, the line and the field. */
export { DataFileError as ExecutableRulesError } from '../../../config/data-file.js';

function parsePattern(hex: string): BytePattern {
  return hex.split(' ').map((b) => (b === '??' ? null : parseInt(b, 16)));
}

/** Parses and validates the text of an executables rules file; `file` names it in errors. */
export function parseExecutableRules(text: string, file: string): ExecutableRules {
  return compileRules(parseDataFile(file, text, schema).data, file);
}

function compileRules(rules: z.infer<typeof schema>, file: string): ExecutableRules {
  const ids = new Set<string>();
  for (const p of rules.packers) {
    if (ids.has(p.id)) throw new DataFileError(`${file}: packers: id ${p.id} appears twice`);
    ids.add(p.id);
    if (!p.sections?.length && !p.markers?.length && !p.entryPoint?.length) throw new DataFileError(`${file}: packers: ${p.id} has no signal (sections, markers or entryPoint)`);
  }
  const fields = new Set<string>();
  for (const c of rules.importCombos) {
    if (fields.has(c.field)) throw new DataFileError(`${file}: importCombos: field ${c.field} appears twice`);
    fields.add(c.field);
  }
  return {
    packers: rules.packers.map((p) => ({
      id: p.id,
      name: p.name,
      sections: new Set(p.sections ?? []),
      markers: (p.markers ?? []).map((m) => {
        const bytes = m.text !== undefined ? Buffer.from(m.text, 'latin1') : Buffer.from(m.hex!.replaceAll(' ', ''), 'hex');
        return { bytes, within: m.within ?? (m.at ?? 0) + bytes.length, at: m.at, formats: m.formats ?? ['pe', 'elf'], sectionless: m.sectionless ?? false };
      }),
      entryPoint: (p.entryPoint ?? []).map(parsePattern),
    })),
    importCombos: rules.importCombos.map((c) => ({ id: c.id, field: c.field, description: c.description, groups: c.groups.map((g) => new Set(g)) })),
    entropy: rules.entropy,
    hiddenLocations: { tempDirs: rules.hiddenLocations.tempDirs, ordinaryDotDirs: new Set(rules.hiddenLocations.ordinaryDotDirs) },
  };
}

let cached: ExecutableRules | undefined;

/** The shipped `rules/executables.yaml`, read and validated once per process. */
export function executableRules(): ExecutableRules {
  if (cached) return cached;
  const loaded = loadDataFile('executables.yaml', schema);
  return (cached = compileRules(loaded.data, loaded.file));
}
