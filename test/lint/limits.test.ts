/**
 * Every limit is reachable from src/config/limits.ts (README "How it works"): the tunable `Limits` there, every other
 * bound in a module its `LIMIT_MODULES` lists. This fails when a listed module is missing, when a `limits.ts` under
 * src/ is not listed, and when src/ declares a limit-like constant, or an inline `maxX: 123` / `limit = 123` default,
 * anywhere else. A constant the pattern catches that is not a limit (a format's field width, a batching knob) is
 * listed in NOT_LIMITS with the reason.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMIT_MODULES } from '../../src/config/limits.js';
import { repoRoot } from '../support/paths.js';

/** The module that lists the others; it holds the tunable `Limits`. */
const INDEX_MODULE = 'src/config/limits.ts';

/** Words and units in a constant's name that say it bounds something. */
const LIMIT_NAME = /MAX|LIMIT|BUDGET|BOUND|TIMEOUT|DEADLINE|RETR(?:Y|IES)|BYTES|_MS$|_SECONDS$|_CHARS$|DEPTH|NESTING|_ENTRIES$|_LINES$|_FILES$|_ROWS$|_LENGTH$/;
/** A top-level `const NAME` (exported or not, with or without a type); the initialiser, if on the same line. */
const CONSTANT = /^(?:export )?const ([A-Z][A-Z0-9_]*)(?::.*?)? =(?: (.*))?$/;
/** Initialisers that are no number: strings, patterns, arrays, sets, buffers, functions. */
const NOT_A_NUMBER = /^(?:['"`/[]|new |String\(|Buffer\.|\(?[\w, ]*\)? =>)/;
/** A bound written inline: `maxBytes: 1024` or `fooTimeout: 5_000` in an object, `limit = 64` as a parameter's default. */
const INLINE_BOUND = /\b(max[A-Z]\w*|\w*[tT]imeout\w*)\s*:\s*\d|[(,]\s*(max\w*|limit\w*)\s*(?::\s*number)?\s*=\s*\d/;

interface LimitLike {
  file: string;
  line: number;
  /** The constant's name, or the property or parameter of an inline bound. */
  name: string;
}

/** The limit-like declarations of one source file (comments skipped). */
function limitLikeDeclarations(file: string, text: string): LimitLike[] {
  const found: LimitLike[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.startsWith('*') || trimmed.startsWith('//') || trimmed.startsWith('/*')) return;
    const constant = CONSTANT.exec(line);
    const initialiser = constant?.[2] ?? lines[i + 1]?.trim() ?? '';
    if (constant && LIMIT_NAME.test(constant[1]!) && !NOT_A_NUMBER.test(initialiser)) {
      found.push({ file, line: i + 1, name: constant[1]! });
      return;
    }
    const inline = INLINE_BOUND.exec(line);
    if (inline) found.push({ file, line: i + 1, name: (inline[1] ?? inline[2])! });
  });
  return found;
}

/**
 * Names the patterns catch that are not limits, by file: nothing is refused, cut or bounded by them. Each must still
 * be there (a stale entry fails too).
 */
const NOT_LIMITS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'src/util/zip.ts': { MAX_COMMENT: "ZIP format: the comment-length field is 16 bits, so the end record is at most this far back" },
  'src/vuln/feeds/zip-file.ts': { MAX_COMMENT: "ZIP format: the comment-length field is 16 bits, so the end record is at most this far back" },
  'src/util/long-paths.ts': {
    DIRECT_MAX_BYTES: "derived from the kernel's PATH_MAX: when a path goes through an anchor; every path is reached",
    SEGMENT_BYTES: "derived from the kernel's NAME_MAX: where anchors are opened; every path is reached",
  },
  'src/analyze/packages/rpm/ndb.ts': {
    HEADER_BYTES: 'ndb format: header size',
    SLOT_BYTES: 'ndb format: slot size',
    BLOCK_BYTES: 'ndb format: block size',
    SLOT_PAGE_BYTES: 'ndb format: slot page size',
    BLOB_HEAD_BYTES: 'ndb format: blob header size',
  },
  'src/analyze/packages/rpm/bdb.ts': {
    PAGE_HEADER_BYTES: 'Berkeley DB format: page header size',
    CHECKSUM_BYTES: 'Berkeley DB format: checksum field size',
    OFFPAGE_ITEM_BYTES: 'Berkeley DB format: off-page item size',
  },
  'src/analyze/binary/pe.ts': { MAX_DATA_DIRECTORIES: 'PE/COFF format: the optional header has 16 data directories' },
  'src/analyze/binary/macho.ts': { MAX_FAT_ARCHES: 'tells a fat Mach-O from a Java class file, which shares its magic' },
  'src/analyze/binary/candidates.ts': { MIN_EXECUTABLE_BYTES: 'a heuristic of which files may be programs: smaller ones are scripts or stubs' },
  'src/analyze/threats/cryptominer/pools.ts': { MAX_HOST_TOKEN_CHARS: 'the longest token the host-token pattern can match, derived from that pattern' },
  'src/analyze/threats/executables/entropy.ts': {
    EARLY_STOP_MIN_BYTES: 'when counting may stop early once the threshold is out of reach; the result is the same',
    BOUND_MARGIN: 'a rounding margin of that early stop',
  },
  'src/analyze/threats/yara/yara-cli.ts': {
    MAX_BATCH_FILES: 'batching: files per yara process; every file is scanned',
    BATCH_WAIT_MS: 'batching: how long a scan waits for companions',
  },
  'src/analyze/threats/yara/yarax.ts': {
    BATCH_MAX_FILES: 'batching: files per worker batch; every file is scanned',
    SLAB_BYTES: 'batching: the reusable buffer a batch travels in; larger files go alone',
  },
  'src/image/registry/auth.ts': {
    DEFAULT_TOKEN_SECONDS: "the token specification's default lifetime",
    EXPIRY_MARGIN_MS: 'a token is renewed this long before it expires',
  },
  'src/vuln/feeds/index.ts': { HEAD_BYTES: "how much of a file is read to recognise its format" },
  'src/vuln/severity/cvss4.ts': { DEPTH: "the CVSS v4.0 specification's equivalence-set depths" },
  'src/vuln/severity/vector.ts': { max: 'how much untrusted text an error message quotes, like the quotes in messages across src/' },
  'src/report/html/client/table.ts': { SCROLL_ROWS: 'longer tables scroll; every row is shown' },
  'src/store/cluster.ts': { SOCKET_PATH_MAX: "Linux: sun_path is 108 bytes; a longer socket path cannot be bound at all" },
  'src/detonate/rootfs.ts': {
    NAME_MAX_BYTES: "Linux's NAME_MAX: the longest name any runtime can create; longer entries cannot be materialised at all",
    PATH_MAX_BYTES: "Linux's PATH_MAX: the longest symlink target the kernel takes; a longer one cannot be created at all",
  },
  'src/detonate/bundle.ts': { MAX_ID: 'Linux: the largest uid or gid, (uid_t)-1 being "no id"; a larger one is not an id' },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('limit-like declarations', () => {
  const hits = (text: string): string[] => limitLikeDeclarations('x.ts', text).map((h) => h.name);

  it('are found in the shapes limits are written', () => {
    expect(hits('const MAX_FOO = 12;')).toEqual(['MAX_FOO']);
    expect(hits('export const READ_TIMEOUT_MS: number = 5_000;')).toEqual(['READ_TIMEOUT_MS']);
    expect(hits('const HEADER_READ_BYTES = 64 * 1024;')).toEqual(['HEADER_READ_BYTES']);
    expect(hits('export const DEFAULT_FOO_LIMITS: Readonly<FooLimits> = Object.freeze({')).toEqual(['DEFAULT_FOO_LIMITS']);
    expect(hits('export const MAX_BAR_BYTES: Readonly<Record<Kind, number>> =\n  Object.freeze({ a: 1 });')).toEqual(['MAX_BAR_BYTES']);
    expect(hits('const MAX_NESTING = 1 << 8;')).toEqual(['MAX_NESTING']);
    expect(hits('  const entries = listZip(buf, { maxEntries: 4096 });')).toEqual(['maxEntries']);
    expect(hits('const DEFAULT_OPTIONS = { maxDepth: 8 };')).toEqual(['maxDepth']);
    expect(hits("  agent = new Agent({ headersTimeout: 60_000 });")).toEqual(['headersTimeout']);
    expect(hits('export function find(text: string, limit = 64): Match[] {')).toEqual(['limit']);
    expect(hits('export function download(url: string, maxBytes = 4 * 1024): Promise<string> {')).toEqual(['maxBytes']);
  });

  it('are not confused with patterns, names, sets, counters, uses or comments', () => {
    expect(hits('const HEX_BYTES = /^[0-9A-F]{2}$/;')).toEqual([]);
    expect(hits("const HIDDEN_FILES = 'T1564.001';")).toEqual([]);
    expect(hits("const STATES_WITH_FILES = new Set(['installed']);")).toEqual([]);
    expect(hits("const MAX_SAFE_INTEGER = String(Number.MAX_SAFE_INTEGER);")).toEqual([]);
    expect(hits("const RELEASE_FILES: ReadonlyMap<string, (text: string) => Info | null> = new Map([")).toEqual([]);
    expect(hits('const BLOCK = 512;')).toEqual([]);
    expect(hits('  let maxPorts = 0;')).toEqual([]);
    expect(hits('  if (text.length > MAX_FOO) return;')).toEqual([]);
    expect(hits('  const value = doc.toJS({ maxAliasCount: MAX_ALIASES });')).toEqual([]);
    expect(hits('/** Longest name: const MAX_NAME = 10 in the old code. */')).toEqual([]);
    expect(hits(' * maxBytes: 1024 is the default')).toEqual([]);
  });
});

describe('every limit is reachable from src/config/limits.ts', () => {
  const limitModules = new Set([INDEX_MODULE, ...LIMIT_MODULES]);

  it('lists modules that exist, by their paths from the repository root', () => {
    const missing = LIMIT_MODULES.filter((path) => !/^src\/[a-z0-9/-]+\.ts$/.test(path) || !existsSync(join(repoRoot, path)));
    expect(missing, 'LIMIT_MODULES (src/config/limits.ts) names modules that do not exist').toEqual([]);
  });

  it('lists every limits module under src/', () => {
    const unlisted = sourceFiles('src').filter((path) => path.endsWith('/limits.ts') && !limitModules.has(path));
    expect(unlisted, 'add these to LIMIT_MODULES in src/config/limits.ts').toEqual([]);
  });

  it('finds no limit-like constant or inline bound outside the listed modules', () => {
    const stray: string[] = [];
    const excused = new Set<string>();
    for (const path of sourceFiles('src')) {
      if (limitModules.has(path)) continue;
      for (const hit of limitLikeDeclarations(path, readFileSync(join(repoRoot, path), 'utf8'))) {
        if (NOT_LIMITS[path]?.[hit.name] !== undefined) excused.add(`${path} ${hit.name}`);
        else stray.push(`${path}:${hit.line} ${hit.name}`);
      }
    }
    expect(stray, 'move these to the stage\'s limits module (listed in LIMIT_MODULES, src/config/limits.ts), or list them in NOT_LIMITS with why they are no limit').toEqual([]);
    const stale = Object.entries(NOT_LIMITS).flatMap(([path, names]) => Object.keys(names).map((name) => `${path} ${name}`)).filter((key) => !excused.has(key));
    expect(stale, 'NOT_LIMITS names declarations that are gone: drop them').toEqual([]);
  });
});
