import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { bundledRulesDir } from './paths.js';

/** A shipped data file (`rules/*.yaml`) that does not parse or does not validate: the message names the file and line. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
}

export interface LoadedDataFile<T> {
  data: T;
  /** First 16 hex digits of the file's SHA-256: the detector's `configKey`, so cached results follow edits. */
  digest: string;
  /** Where the file was read from, for error messages of later validation steps. */
  file: string;
  /** 1-based line of the node at `path` (e.g. `['rules', 3, 'regex']`), when the document has it. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function nodeLine(doc: Document, text: string, path: readonly (string | number)[]): number | undefined {
  // Walk down as far as the path exists, so an issue on a missing key points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] }).range;
      if (range) return lineOfOffset(text, range[0]);
    }
    if (depth > 0 && (isMap(node) || isSeq(node))) break;
  }
  return undefined;
}

/** Parses and validates YAML text; errors name `file` and the line. */
export function parseDataFile<S extends z.ZodType>(file: string, text: string, schema: S): LoadedDataFile<z.infer<S>> {
  const doc = parseDocument(text, { uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0]?.line;
    throw new DataFileError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  const result = schema.safeParse(doc.toJS());
  const lineOf = (path: readonly (string | number)[]) => nodeLine(doc, text, path);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const line = lineOf(path);
    const where = path.length > 0 ? ` at ${path.join('.')}` : '';
    throw new DataFileError(`${file}${line ? `:${line}` : ''}: invalid${where}: ${issue.message}`);
  }
  return {
    data: result.data as z.infer<S>,
    digest: createHash('sha256').update(text).digest('hex').slice(0, 16),
    file,
    lineOf,
  };
}

/** Reads `rules/<name>` from the shipped rules directory, validated by `schema`. */
export function loadDataFile<S extends z.ZodType>(name: string, schema: S): LoadedDataFile<z.infer<S>> {
  const file = join(bundledRulesDir(), name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataFileError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseDataFile(file, text, schema);
}

/** Compiles a regular expression from a data file, naming the file and line when it does not compile. */
export function compileDataRegex(source: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new DataFileError(`${where}: regular expression does not compile: ${(err as Error).message}`);
  }
}
