import { PythonPackageCollector, type ParseResult } from './collect.js';
import { MAX_PYTHON_LICENSE_NAME_CHARS, MAX_PYTHON_METADATA_HEADER_LINES } from '../../limits.js';

/**
 * The email-style header of core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `EGG-INFO/PKG-INFO`,
 * or an `*.egg-info` file): field name → values, in order. Stops at the blank line that starts the description.
 * Continuation lines (leading whitespace) extend the previous value.
 */
export function readMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { values: string[]; index: number } | undefined;
  let lines = 0;
  let start = 0;
  while (start <= text.length && lines++ < MAX_PYTHON_METADATA_HEADER_LINES) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (line.trim() === '') {
      if (headers.size > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (last) last.values[last.index] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    let values = headers.get(field);
    if (!values) headers.set(field, (values = []));
    values.push(value);
    last = { values, index: values.length - 1 };
  }
  return headers;
}

/**
 * Licences in the order of trust: the SPDX `License-Expression` (metadata 2.4), a short `License:` value, then the
 * `License :: … :: MIT License` classifiers. `UNKNOWN` and pasted licence texts are not names.
 */
export function metadataLicenses(headers: Map<string, string[]>): string[] {
  const expression = headers.get('license-expression')?.[0]?.trim();
  if (expression) return [expression];
  const license = headers.get('license')?.[0]?.trim();
  if (license && license.toUpperCase() !== 'UNKNOWN' && !license.includes('\n') && license.length <= MAX_PYTHON_LICENSE_NAME_CHARS) {
    return [license];
  }
  const fromClassifiers = new Set<string>();
  for (const classifier of headers.get('classifier') ?? []) {
    const parts = classifier.split('::').map((p) => p.trim());
    if (parts[0] === 'License' && parts.length >= 2) {
      const name = parts[parts.length - 1]!;
      if (name && name !== 'OSI Approved') fromClassifiers.add(name);
    }
  }
  return [...fromClassifiers];
}

/** One installed distribution. Files without both `Name` and `Version` describe nothing and give no package. */
export function parseCoreMetadata(text: string): ParseResult {
  const headers = readMetadataHeaders(text);
  const collector = new PythonPackageCollector();
  const name = headers.get('name')?.[0];
  const version = headers.get('version')?.[0];
  if (name && version) collector.add({ name, version, licenses: metadataLicenses(headers) });
  return { packages: collector.packages(), notices: [] };
}
