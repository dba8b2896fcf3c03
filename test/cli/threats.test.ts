/**
 * The CLI's threat options as a user runs them: their own YARA rules (`--rules`), known-bad hash lists
 * (`--hashes`), both YARA engines, and clear usage errors for broken rule files and lists.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { writeOciArchive } from '../support/image-builder.js';

let dir: string;
let archive: string;
let env: NodeJS.ProcessEnv;
const PAYLOAD = 'totally-unique-implant-marker-7f3a9 beacon';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detonate-cli-threats-'));
  env = { XDG_CACHE_HOME: join(dir, 'cache') };
  archive = join(dir, 'image.oci.tar');
  await writeOciArchive(archive, {
    layers: [{ entries: [
      { name: 'usr/local/bin/agent', content: `#!/bin/sh\n# ${PAYLOAD}\nsleep 1\n`, mode: 0o755 },
      { name: 'opt/data/blob.bin', content: 'known bad bytes', mode: 0o644 },
    ] }],
    config: { User: 'app', Cmd: ['/usr/local/bin/agent'] },
  });
  const rules = join(dir, 'rules', 'team');
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(rules, 'implant.yar'), `rule Team_Implant_Marker {\n  meta:\n    category = "backdoor"\n    severity = "critical"\n    title = "Our team's implant marker"\n    attack = "T1059.004"\n  strings:\n    $m = "totally-unique-implant-marker-7f3a9"\n  condition:\n    $m\n}\n`);
  // an identifier that only a missing include would define: neither engine can compile it
  writeFileSync(join(rules, 'needs-include.yar'), 'rule Needs_Include { condition: is__elf and filesize < 1MB }\n');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['yara-x', 'yara'])('--rules with the %s engine', (engine) => {
  it("finds what the user's rule describes, with its category and meta, and lists the rule it could not use", async () => {
    const r = await runCli(['scan', '--static-only', '--no-vulns', '--format', 'json', '--yara-engine', engine, '--rules', join(dir, 'rules'), `oci-archive:${archive}`], env, 120_000);
    expect(r.stderr).toMatch(/Needs_Include[^\n]*is__elf/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const f = report.findings.find((x) => x.rule === 'yara/Team_Implant_Marker');
    expect(f).toMatchObject({ category: 'backdoor', severity: 'critical', title: "Our team's implant marker", path: 'usr/local/bin/agent', attack: ['T1059.004'] });
    expect(JSON.stringify(f!.evidence)).toContain('totally-unique-implant-marker-7f3a9');
  }, 120_000);
});

describe('--hashes', () => {
  it('flags a file on the list and fails the scan with --fail-on malware', async () => {
    const list = join(dir, 'bad.sha256');
    writeFileSync(list, `${createHash('sha256').update('known bad bytes').digest('hex')}  loader.bin\n`);
    const r = await runCli(['scan', '--static-only', '--no-vulns', '--format', 'json', '--hashes', list, '--fail-on', 'malware', `oci-archive:${archive}`], env, 120_000);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.findings.find((x) => x.rule === 'known-hashes/match')).toMatchObject({ path: 'opt/data/blob.bin', category: 'malware' });
  }, 120_000);

  it('a malformed list is a usage error naming the file and line', async () => {
    const list = join(dir, 'broken.txt');
    writeFileSync(list, 'deadbeef\n');
    const r = await runCli(['scan', '--static-only', '--no-vulns', '--hashes', list, `oci-archive:${archive}`], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('broken.txt:1');
  }, 60_000);
});
