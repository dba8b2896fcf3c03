import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { DetonationResult } from '../../src/detonate/session.js';
import type {
  RunRecord, Finding, ImageSection, LayerInfo, ObservedConnection, ObservedFileOp, Package, Report, SuppressedItem, Vulnerability,
} from '../../src/model/index.js';
import { FINDING_CATEGORIES } from '../../src/model/index.js';
import { renderJson } from '../../src/report/json.js';
import { loadReportSchema, validateReport } from '../../src/report/schema.js';
import { runRecordOf } from '../../src/scan/detonation.js';
import { repoRoot } from '../support/paths.js';
import { expectValidReport, reportSchemaErrors } from '../support/report-schema.js';
import { alpineReport, debianReport, emptyReport } from './sample-reports.js';

const hex = (c: string): string => c.repeat(64).slice(0, 64);

/** What a detonation of a miner that drops a copy of itself, renames it and kills a rival gives back. */
function minerRun(): DetonationResult {
  return {
    sandbox: 'gvisor',
    durationMs: 8012.5,
    exitCode: null,
    timedOut: true,
    killedBy: 'deadline',
    processes: [
      { pid: 1, ppid: 0, exe: '/usr/local/bin/start.sh', argv: ['/bin/sh', '/usr/local/bin/start.sh'], startMs: 0 },
      { pid: 7, ppid: 1, exe: '/tmp/kdevtmpfsi', argv: ['kdevtmpfsi', '-o', 'pool.example.test:3333', '<script>alert(1)</script>'], startMs: 41.25 },
    ],
    files: [
      { op: 'create', path: '/tmp/kdevtmpfsi', pid: 1 },
      { op: 'chmod', path: '/tmp/kdevtmpfsi', pid: 1, mode: 0o755 },
      { op: 'rename', path: '/tmp/x', pid: 1, to: '/tmp/kdevtmpfsi' },
      { op: 'write', path: '/etc/ld.so.preload', pid: 7, error: 'EROFS' },
      { op: 'delete', path: '/tmp/x.log', pid: 7 },
    ],
    dns: [{ name: 'pool.example.test', type: 'A', pid: 7 }, { name: 'x.example.test', type: 'TXT', pid: null }],
    connections: [
      {
        proto: 'tcp', dst: '203.0.113.7', port: 3333, host: 'pool.example.test', protocol: 'stratum', pid: 7,
        firstBytes: '{"id":1,"method":"login","params":{"login":"4Awallet"}}\\n',
        details: { methods: ['login'], wallet: '4Awallet', password: 'x', agent: 'XMRig/6.21.0', algo: ['rx/0'], rigId: null, jobSent: true },
      },
      { proto: 'udp', dst: '203.0.113.8', port: 53, firstBytes: '\\x00\\x01', protocol: 'unknown' },
    ],
    kills: [{ pid: 7, target: 9, signal: 'SIGKILL', targetExe: '/tmp/rival' }, { pid: 7, target: 1, signal: 'SIGTERM' }],
    dropped: [{ path: '/tmp/kdevtmpfsi', size: 6_200_000, mode: 0o755, sha256: hex('9e') }],
    trace: {
      complete: false, traceBytes: 2_847_738, omitted: { processes: 51, files: 492, connections: 0, kills: 0, events: 0 },
      notes: ['51 of 307 processes are not listed', '492 of 1,004 file operations are not listed'],
    },
    cpu: { seconds: 15.9, peakCores: 1.98 },
    memory: { peakBytes: 312_000_000 },
    pids: { peak: 4 },
    limitsHit: { oomKills: 0, pidsLimitHits: 2, diskFull: false },
    series: [{ t: 0, cpuSeconds: 0, memoryBytes: 1_000_000, pids: 1 }, { t: 1000, cpuSeconds: 1.9, memoryBytes: 300_000_000, pids: 4 }],
    output: { stdout: 'mining…\n', stderr: '', truncated: false },
    sinkhole: { events: [], stats: null },
    network: { sinkAddress: '10.200.0.1', sampleAddress: '10.200.0.2' },
    timings: { setupMs: 410, firstExecMs: 95, teardownMs: 120 },
    runtimeLog: 'runsc: ok',
  };
}

function detonatedReport(): Report {
  const report = debianReport();
  report.behavior = runRecordOf(minerRun());
  return report;
}

/**
 * A report with every key of the contract, optional ones included. `Required<…>` makes the type checker fail here
 * when model.ts gains a field this object does not have.
 */
function maximalReport(): Report {
  const finding: Required<Finding> = {
    category: 'cryptominer', severity: 'critical', title: 'XMRig miner binary', source: 'static', rule: 'yara/xmrig',
    path: 'tmp/xmrig', layer: 1, removedInLayer: 2, sha256: hex('9e'), attack: ['T1496', 'T1059.004'], evidence: { strings: ['stratum+tcp://'], nested: { n: 1 } },
    payload: {
      steps: [
        { method: 'base64', offset: 120, length: 400, feeds: 'sh' },
        { method: 'gzip', name: 'x.tar' },
        { method: 'tar', name: 'xmrig', offset: 512, length: 4096, format: 'ustar' },
      ],
      sha256: hex('b2'),
      size: 4096,
    },
  };
  const vulnerability: Required<Vulnerability> = {
    id: 'CVE-2024-0727', aliases: ['DSA-5621-1', 'GHSA-9v9h-cgj8-h64p'], package: 'libssl3', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
    installedVersion: '3.0.11-1~deb12u2', fixedVersion: '3.0.13-1~deb12u1', severity: 'moderate', severitySource: 'cvss:3.1',
    cvss: { score: 5.5, vector: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' }, source: 'DSA-5621-1', layer: 0, title: 'openssl: denial of service', wontFix: false,
  };
  const layer: Required<LayerInfo> = {
    index: 0, diffId: `sha256:${hex('a1')}`, digest: `sha256:${hex('d0')}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 100, createdBy: 'ADD rootfs /', entries: 10, whiteouts: 1,
  };
  const pkg: Required<Package> = {
    name: 'libssl3', version: '3.0.11-1~deb12u2', type: 'deb', purl: vulnerability.purl, layer: 0, paths: ['var/lib/dpkg/status'], sourceName: 'openssl',
    sourceVersion: '3.0.11-1~deb12u2', arch: 'amd64', licenses: ['Apache-2.0'], metadata: { maintainer: 'x', essential: false, size: 3, provides: ['libssl'] },
  };
  const image: Required<ImageSection> = {
    reference: 'docker.io/library/example:1.0', digest: `sha256:${hex('4f')}`, configDigest: `sha256:${hex('cf')}`, platform: 'linux/amd64',
    os: { id: 'debian', versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)', idLike: ['linux'] },
    layers: [layer],
    config: { user: 'app', entrypoint: ['/x'], cmd: ['-v'], env: ['A=1'], exposedPorts: ['80/tcp'], labels: { a: 'b' }, workingDir: '/app', created: 'yesterday', architecture: 'amd64', os: 'linux' },
    files: { count: 1, bytes: 2, removed: 0 },
  };
  const suppressed: Required<SuppressedItem> = { finding, vulnerability, reason: 'accepted risk', expires: '2030-01-31', ignoredBy: '.detonateignore:3' };
  const report: Required<Report> = {
    schemaVersion: 1,
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2024-03-01T00:00:00Z', sources: ['osv:Debian'], stale: true } },
    image,
    packages: [pkg],
    vulnerabilities: [vulnerability],
    findings: [finding, { ...finding, source: 'dynamic', removedInLayer: null }],
    behavior: runRecordOf(minerRun()),
    verdict: {
      malicious: true, categories: ['cryptominer'], vulnerabilities: { critical: 0, high: 0, moderate: 1, low: 0, unknown: 0 }, summary: 'runs XMRig.',
      evidence: [{ category: 'cryptominer', severity: 'critical', source: 'static', rule: 'yara/xmrig', title: 'XMRig miner binary', path: 'tmp/xmrig' }],
    },
    suppressed: [suppressed, { vulnerability, reason: 'no fix', ignoredBy: '.detonateignore:4' }],
    notices: [{ level: 'warning', message: 'skipped', path: 'opt/huge.bin', layer: 0 }],
    scannedAt: '2024-03-01T12:34:56.789Z',
  };
  return report;
}

/** A JSON copy of a report, to break in the negative tests. */
function copy(report: Report): Record<string, unknown> & { findings: Record<string, unknown>[]; verdict: Record<string, unknown> } {
  return JSON.parse(JSON.stringify(report)) as ReturnType<typeof copy>;
}

describe('the report JSON Schema', () => {
  it('is a valid draft 2020-12 schema with an $id, a title and the schemaVersion rule', () => {
    const schema = loadReportSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toEqual(expect.any(String));
    expect(schema.title).toBe('Detonate report');
    expect(schema.description).toMatch(/schemaVersion` changes only on a breaking change/);
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  it.each([
    ['a Debian image with findings and notices', debianReport],
    ['an empty scratch image', emptyReport],
    ['a report with a full behavior section', detonatedReport],
    ['a report with every optional key', maximalReport],
    ['a report whose image could not be run', () => debianReport({ behavior: { error: 'built for linux/s390x and this host runs linux/amd64 (no emulation)' } })],
  ])('validates %s', (_label, make) => {
    expectValidReport(make());
    // also as --format json writes it (keys reordered)
    expectValidReport(JSON.parse(renderJson([make()])));
  });

  it('validates the Alpine sample once its deliberately malformed vulnerabilities are left out, and names each of them', () => {
    const report = alpineReport();
    expect(reportSchemaErrors(report)).toEqual(
      expect.arrayContaining([
        "/vulnerabilities/1 must have required property 'aliases'",
        '/vulnerabilities/2 must be object',
        "/vulnerabilities/3 must have required property 'id'",
      ]),
    );
    expectValidReport({ ...report, vulnerabilities: report.vulnerabilities.slice(0, 1) });
  });

  it('validates an array of reports (several images) and points into the array on an error', () => {
    expectValidReport(JSON.parse(renderJson([debianReport(), emptyReport(), detonatedReport()])));
    const broken = copy(emptyReport());
    broken.schemaVersion = 2;
    expect(reportSchemaErrors([debianReport(), broken])).toEqual(['/1/schemaVersion must be equal to constant: 1']);
  });

  describe('rejects what breaks the contract', () => {
    it('a category outside the contract', () => {
      const r = copy(debianReport());
      r.findings[0]!.category = 'virus';
      expect(validateReport(r).errors).toEqual([expect.stringMatching(/^\/findings\/0\/category must be equal to one of the allowed values: "cryptominer"/)]);
      const v = copy(debianReport());
      v.verdict.categories = ['cryptominer', 'ransomware'];
      expect(validateReport(v).ok).toBe(false);
    });

    it('a missing required key', () => {
      const r = copy(debianReport());
      delete r.findings[0]!.rule;
      delete r.verdict.summary;
      expect(validateReport(r).errors).toEqual(["/findings/0 must have required property 'rule'", "/verdict must have required property 'summary'"]);
    });

    it('a string where a number goes', () => {
      const r = copy(debianReport());
      (r.verdict.vulnerabilities as Record<string, unknown>).high = '1';
      (r.image as { layers: Record<string, unknown>[] }).layers[0]!.size = '29153245';
      expect(validateReport(r).errors).toEqual(['/image/layers/0/size must be integer', '/verdict/vulnerabilities/high must be integer']);
    });

    it('a behavior that is neither the run nor an error, and an error that is not a string', () => {
      const r = copy(detonatedReport());
      const behavior = r.behavior as Record<string, unknown>;
      delete behavior.processes;
      (behavior.connections as Record<string, unknown>[])[0]!.protocol = 'gopher';
      expect(validateReport(r).errors).toEqual([
        "/behavior must have required property 'processes'",
        expect.stringMatching(/^\/behavior\/connections\/0\/protocol must be equal to one of the allowed values: "stratum"/),
      ]);
      expect(validateReport(copy(debianReport({ behavior: { error: 42 } as unknown as RunRecord }))).errors).toEqual(['/behavior/error must be string']);
      expect(validateReport(copy(debianReport({ behavior: 'failed' as unknown as RunRecord }))).ok).toBe(false);
    });

    it('malformed hashes, digests, ATT&CK ids, ports and a suppressed entry that suppresses nothing', () => {
      const r = copy(maximalReport());
      r.findings[0]!.sha256 = 'A'.repeat(64);
      r.findings[0]!.attack = ['t1496'];
      (r.image as Record<string, unknown>).digest = 'sha256:short';
      ((r.behavior as RunRecord).connections[0] as { port: number }).port = 70000;
      (r.suppressed as Record<string, unknown>[])[1] = { reason: 'x', ignoredBy: 'f:1' };
      expect(validateReport(r).errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\/findings\/0\/sha256 must match pattern/),
          expect.stringMatching(/^\/findings\/0\/attack\/0 must match pattern/),
          expect.stringMatching(/^\/image\/digest must match pattern/),
          '/behavior/connections/0/port must be <= 65535',
          "/suppressed/1 must have required property 'finding'",
        ]),
      );
    });

    it('more than five pieces of verdict evidence, or a scannedAt that is not a timestamp', () => {
      const r = copy(maximalReport());
      const one = (r.verdict.evidence as unknown[])[0];
      r.verdict.evidence = [one, one, one, one, one, one];
      r.scannedAt = 'yesterday';
      expect(validateReport(r).errors).toEqual(['/verdict/evidence must NOT have more than 5 items', '/scannedAt must match format "date-time"']);
    });
  });

  it('is open to keys added later (not a breaking change), except in the strict mode the tests use', () => {
    const r = copy(debianReport());
    r.futureField = { x: 1 };
    r.findings[0]!.confidence = 0.9;
    expect(validateReport(r)).toEqual({ ok: true, errors: [] });
    expect(validateReport(r, { strict: true }).errors).toEqual(['(root) must NOT have additional properties: "futureField"', '/findings/0 must NOT have additional properties: "confidence"']);
    // the free-form maps stay open in strict mode too
    const open = copy(maximalReport());
    open.findings[0]!.evidence = { anything: [1, { deep: true }] };
    ((open.behavior as RunRecord).connections[0] as ObservedConnection).details = { tls: { sni: 'x', alpn: ['h2'] } };
    expect(validateReport(open, { strict: true }).errors).toEqual([]);
  });

  it('has every category of model.ts, and nothing else, as the finding category enum', () => {
    const defs = loadReportSchema().$defs as Record<string, { enum?: unknown[] }>;
    expect(defs.category?.enum).toEqual([...FINDING_CATEGORIES]);
  });
});

/** Per object path of the contract (`findings[].evidence` …): its keys, the required ones, and literal values. */
interface Shape {
  keys: Set<string>;
  required: Set<string>;
  open: boolean;
  literals?: Set<string | number>;
}

function shapeAt(shapes: Map<string, Shape>, path: string): Shape {
  let shape = shapes.get(path);
  if (!shape) shapes.set(path, (shape = { keys: new Set(), required: new Set(), open: false }));
  return shape;
}

/** The shape of `Report` as model.ts declares it, read with the TypeScript compiler. */
function modelShapes(): Map<string, Shape> {
  const file = join(repoRoot, 'src/model/report.ts');
  const program = ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, noEmit: true, types: [], skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const report = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Report')!;
  const shapes = new Map<string, Shape>();
  const walk = (type: ts.Type, path: string, depth: number): void => {
    if (depth > 12) throw new Error(`model.ts nests deeper than expected at ${path}`);
    const members = type.isUnion() ? type.types : [type];
    const literals = members.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
    if (literals.length > 0 && literals.every((t) => t.isStringLiteral() || t.isNumberLiteral())) {
      const values = shapeAt(shapes, path).literals ?? new Set();
      for (const t of literals) values.add((t as ts.StringLiteralType | ts.NumberLiteralType).value);
      shapeAt(shapes, path).literals = values;
      return;
    }
    for (const t of members) {
      if (!(t.flags & ts.TypeFlags.Object)) continue;
      if (checker.isArrayType(t)) {
        walk(checker.getTypeArguments(t as ts.TypeReference)[0]!, `${path}[]`, depth + 1);
        continue;
      }
      const shape = shapeAt(shapes, path);
      if (checker.getIndexInfoOfType(t, ts.IndexKind.String)) {
        shape.open = true;
        continue;
      }
      for (const prop of checker.getPropertiesOfType(t)) {
        shape.keys.add(prop.name);
        if (!(prop.flags & ts.SymbolFlags.Optional)) shape.required.add(prop.name);
        walk(checker.getTypeOfSymbolAtLocation(prop, report), path ? `${path}.${prop.name}` : prop.name, depth + 1);
      }
    }
  };
  walk(checker.getTypeAtLocation(report.name), '', 0);
  return shapes;
}

/** The shape the schema gives a report (`$defs/report`), following $ref and the branches of oneOf/anyOf/if. */
function schemaShapes(): Map<string, Shape> {
  type Node = Record<string, unknown>;
  const schema = loadReportSchema();
  const defs = schema.$defs as Record<string, Node>;
  const shapes = new Map<string, Shape>();
  const walk = (node: Node, path: string, depth: number): void => {
    if (depth > 24) throw new Error(`the schema nests deeper than expected at ${path}`);
    if (typeof node.$ref === 'string') walk(defs[node.$ref.replace('#/$defs/', '')]!, path, depth + 1);
    if (Array.isArray(node.enum) || 'const' in node) {
      const values = shapeAt(shapes, path).literals ?? new Set();
      for (const v of Array.isArray(node.enum) ? node.enum : [node.const]) values.add(v as string | number);
      shapeAt(shapes, path).literals = values;
    }
    if (node.properties) {
      const shape = shapeAt(shapes, path);
      for (const [key, sub] of Object.entries(node.properties as Record<string, Node>)) {
        shape.keys.add(key);
        walk(sub, path ? `${path}.${key}` : key, depth + 1);
      }
      for (const key of (node.required as string[] | undefined) ?? []) shape.required.add(key);
    } else if (node.additionalProperties !== undefined && node.additionalProperties !== false) {
      shapeAt(shapes, path).open = true;
    }
    if (node.items) walk(node.items as Node, `${path}[]`, depth + 1);
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) for (const sub of (node[key] as Node[] | undefined) ?? []) walk(sub, path, depth + 1);
    for (const key of ['then', 'else'] as const) if (node[key]) walk(node[key] as Node, path, depth + 1);
  };
  walk(defs.report!, '', 0);
  return shapes;
}

function describeShapes(shapes: Map<string, Shape>): Record<string, { keys: string[]; required: string[]; open: boolean; literals?: (string | number)[] }> {
  return Object.fromEntries(
    [...shapes.keys()].sort().map((path) => {
      const s = shapes.get(path)!;
      return [path || '(report)', { keys: [...s.keys].sort(), required: [...s.required].sort(), open: s.open, ...(s.literals ? { literals: [...s.literals].map(String).sort() } : {}) }];
    }),
  );
}

describe('the schema and model.ts stay in step', () => {
  it('describes every object of the Report type with the same keys, the same required keys and the same enumerations', () => {
    const model = describeShapes(modelShapes());
    const schema = describeShapes(schemaShapes());
    // the walk really saw the contract
    expect(model['behavior.connections[]']?.keys).toContain('firstBytes');
    expect(model['findings[].category']?.literals).toContain('cryptominer');
    expect(schema).toEqual(model);
  }, 30_000);

  it('every key of the maximal report is described by the schema (strict mode), so none of them is unknown to consumers', () => {
    const report = maximalReport();
    const behavior = report.behavior as RunRecord;
    // every optional key of the nested behaviour records is there too
    const fileOps = behavior.files.map((f) => Object.keys(f)).flat();
    expect(new Set(fileOps)).toEqual(new Set<keyof ObservedFileOp>(['op', 'path', 'pid', 'to', 'mode', 'error']));
    expect(Object.keys(behavior).sort()).toEqual(
      ['sandbox', 'durationMs', 'exitCode', 'timedOut', 'killedBy', 'processes', 'files', 'dns', 'connections', 'kills', 'dropped', 'trace', 'cpu', 'memory', 'pids', 'limitsHit', 'series', 'output', 'timings', 'sinkAddress'].sort(),
    );
    expectValidReport(report);
  });

  it('the published schema file is what the validator loads', () => {
    const onDisk = JSON.parse(readFileSync(join(repoRoot, 'schema/report.schema.json'), 'utf8')) as unknown;
    expect(loadReportSchema()).toEqual(onDisk);
  });
});
