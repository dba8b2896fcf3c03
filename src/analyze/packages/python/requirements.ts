import { PythonPackageCollector, type ParseResult } from './collect.js';
import { MAX_REQUIREMENT_CONTINUATION_LINES } from '../../limits.js';

/** `name[extras] == version` or `===`: an exact pin, the only form that says what is installed. */
const PINNED = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*={2,3}\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)$/;

/**
 * A pip requirements file (`requirements*.txt`). Only exact pins (`==`, `===`) are recorded: a range such as
 * `>=1.2` says nothing certain about the installed version. Handled: comments (also glued, `x==1#note`),
 * backslash continuations, `--hash` and other per-line options, extras, environment markers, ` @ url` suffixes.
 * Option lines (`-r`, `-e`, `--index-url`) and wildcard pins (`==2.*`) are skipped.
 */
export function parseRequirements(text: string): ParseResult {
  const collector = new PythonPackageCollector();
  for (const requirement of logicalLines(text)) {
    const pin = parsePinnedRequirement(requirement);
    if (pin) collector.add(pin);
  }
  return { packages: collector.packages(), notices: [] };
}

function* logicalLines(text: string): Generator<string> {
  let pending = '';
  let joined = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.endsWith('\\') && joined < MAX_REQUIREMENT_CONTINUATION_LINES) {
      pending += `${line.slice(0, -1)} `;
      joined++;
      continue;
    }
    yield pending + line;
    pending = '';
    joined = 0;
  }
  if (pending) yield pending;
}

export function parsePinnedRequirement(line: string): { name: string; version: string } | undefined {
  let s = line;
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(0, hash);
  const marker = s.indexOf(';');
  if (marker >= 0) s = s.slice(0, marker);
  s = s.trim();
  if (!s || s.startsWith('-')) return undefined;
  // Per-requirement options (`--hash=…`) and a direct-reference URL (`== 1.0 @ git+https://…`) follow the pin.
  s = s.replace(/\s+--?[A-Za-z].*$/, '').replace(/\s+@\s.*$/, '').trim();
  const m = PINNED.exec(s);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2]! };
}
