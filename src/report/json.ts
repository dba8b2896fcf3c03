/**
 * `--format json`: the report contract of DESIGN.md §3, one object for one image and an array for several.
 *
 * Keys come out in the contract's order whatever order the report object was built in, so two scans of the same
 * image diff cleanly. Keys the contract does not name (extensions added later) follow the known ones in sorted
 * order; free-form maps (labels, package metadata, finding evidence) are sorted too.
 */
import { VULNERABILITY_SEVERITIES, type Report } from '../model/index.js';

/** The key order of one object in the contract, and the order of the objects nested under its keys. */
interface KeyOrder {
  keys: readonly string[];
  /** For a key whose value is an object, or an array of objects, the order of that object's keys. */
  nested?: Readonly<Record<string, KeyOrder>>;
}

const LAYER: KeyOrder = {
  keys: ['index', 'diffId', 'digest', 'mediaType', 'size', 'createdBy', 'entries', 'whiteouts'],
};

const IMAGE: KeyOrder = {
  keys: ['reference', 'digest', 'configDigest', 'platform', 'os', 'layers', 'config', 'files'],
  nested: {
    os: { keys: ['id', 'versionId', 'versionCodename', 'prettyName', 'idLike'] },
    layers: LAYER,
    config: {
      keys: ['user', 'entrypoint', 'cmd', 'env', 'exposedPorts', 'labels', 'workingDir', 'created', 'architecture', 'os'],
    },
    files: { keys: ['count', 'bytes', 'removed'] },
  },
};

const PACKAGE: KeyOrder = {
  keys: ['name', 'version', 'sourceName', 'sourceVersion', 'type', 'purl', 'layer', 'paths', 'arch', 'licenses', 'metadata'],
};

const VULNERABILITY: KeyOrder = {
  keys: ['id', 'aliases', 'package', 'purl', 'installedVersion', 'fixedVersion', 'severity', 'cvss', 'source', 'layer'],
  nested: { cvss: { keys: ['score', 'vector'] } },
};

const FINDING: KeyOrder = {
  keys: ['category', 'severity', 'title', 'source', 'rule', 'path', 'layer', 'removedInLayer', 'sha256', 'attack', 'evidence', 'payload'],
  nested: { payload: { keys: ['steps', 'sha256', 'size'], nested: { steps: { keys: ['method', 'format', 'name', 'feeds', 'offset', 'length'] } } } },
};

const BEHAVIOR: KeyOrder = {
  keys: ['sandbox', 'durationMs', 'exitCode', 'timedOut', 'killedBy', 'error', 'processes', 'files', 'dns', 'connections', 'kills', 'failedExecs', 'dropped',
    'trace', 'cpu', 'memory', 'pids', 'limitsHit', 'series', 'output', 'timings', 'sinkAddress'],
  nested: {
    processes: { keys: ['pid', 'ppid', 'exe', 'argv', 'startMs'] },
    files: { keys: ['op', 'path', 'pid', 'to', 'mode', 'error', 'atMs'] },
    dns: { keys: ['name', 'type', 'pid', 'atMs'] },
    connections: { keys: ['proto', 'dst', 'port', 'host', 'firstBytes', 'protocol', 'pid', 'atMs', 'details'] },
    kills: { keys: ['pid', 'target', 'signal', 'targetExe'] },
    failedExecs: { keys: ['pid', 'exe', 'argv', 'error', 'atMs'] },
    dropped: { keys: ['path', 'size', 'mode', 'sha256'] },
    trace: { keys: ['complete', 'traceBytes', 'omitted', 'notes'], nested: { omitted: { keys: ['processes', 'files', 'connections', 'kills', 'events'] } } },
    cpu: { keys: ['seconds', 'peakCores'] },
    memory: { keys: ['peakBytes'] },
  },
};

const REPORT: KeyOrder = {
  keys: ['schemaVersion', 'tool', 'image', 'packages', 'vulnerabilities', 'findings', 'behavior', 'verdict', 'suppressed', 'notices', 'scannedAt'],
  nested: {
    tool: { keys: ['name', 'version', 'advisoryDb'], nested: { advisoryDb: { keys: ['builtAt', 'sources', 'stale'] } } },
    image: IMAGE,
    packages: PACKAGE,
    vulnerabilities: VULNERABILITY,
    findings: FINDING,
    behavior: BEHAVIOR,
    verdict: {
      keys: ['malicious', 'categories', 'vulnerabilities', 'summary', 'evidence'],
      nested: {
        vulnerabilities: { keys: VULNERABILITY_SEVERITIES },
        evidence: { keys: ['category', 'severity', 'source', 'rule', 'title', 'path'] },
      },
    },
    suppressed: { keys: ['finding', 'vulnerability', 'reason', 'expires', 'ignoredBy'], nested: { finding: FINDING, vulnerability: VULNERABILITY } },
    notices: { keys: ['level', 'message', 'path', 'layer'] },
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy of `value` with object keys in `order` (or sorted where no order is known). `ancestors` holds the objects
 * on the path from the root, so a cycle (impossible in a report built from JSON, possible in a hand-made one)
 * becomes a clear error instead of endless recursion.
 */
function ordered(value: unknown, order: KeyOrder | undefined, ancestors: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) throw new Error('the report contains a reference cycle and cannot be written as JSON');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => ordered(item, order, ancestors));
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    const known = order?.keys ?? [];
    for (const key of known) {
      if (Object.hasOwn(value, key)) out[key] = ordered(value[key], order?.nested?.[key], ancestors);
    }
    const knownSet = new Set(known);
    for (const key of Object.keys(value).sort()) {
      if (!knownSet.has(key)) out[key] = ordered(value[key], undefined, ancestors);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** A report as the JSON contract orders it (a plain-data copy; the input is not changed). */
export function orderReport(report: Report): unknown {
  return ordered(report, REPORT, new Set());
}

/** The JSON report: one object for one image, an array for several (or none); 2-space indent, trailing newline. */
export function renderJson(reports: readonly Report[]): string {
  const body = reports.length === 1 ? orderReport(reports[0] as Report) : reports.map(orderReport);
  return `${JSON.stringify(body, null, 2)}\n`;
}
