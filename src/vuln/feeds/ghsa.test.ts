import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord } from '../model.js';
import { ghsaImporter } from './ghsa.js';
import { readFeedsFrom } from './index.js';

const ghsaDir = join(corpusDir, 'vuln', 'trivy-db-testdata', 'ghsa', 'testdata');
const haveCorpus = existsSync(ghsaDir);

describe.skipIf(!haveCorpus)('GitHub advisories (trivy-db test data)', () => {
  it('reads the ten reviewed advisories with their severity; the broken one gives a notice', async () => {
    const records: AdvisoryRecord[] = [];
    const notices: string[] = [];
    for await (const r of readFeedsFrom(ghsaDir, (m) => notices.push(m))) records.push(r);
    const ghsa = records.filter((r) => r.source === 'ghsa');
    expect(new Set(ghsa.map((r) => r.sourceId)).size).toBe(10);
    expect(notices.filter((n) => n.includes('GHSA-'))).toEqual([
      expect.stringMatching(/^sad\/ghsa\/advisories\/github-reviewed\/composer\/contao\/core-bundle\/GHSA-wjx8-cgrm-hh8p\.json: not valid JSON/),
    ]);
    // every reviewed advisory has GitHub's rating and a CVSS vector
    for (const r of ghsa) {
      expect(r.severity?.rating).toMatch(/^(low|moderate|high|critical)$/);
      expect(r.severity?.cvssV3).toMatch(/^CVSS:3\.[01]\//);
    }
  });

  it('maps GHSA-32qq-m9fh-f74w exactly: the CVE as id, critical, Maven group:artifact names', async () => {
    const path = join(ghsaDir, 'happy', 'ghsa', 'advisories', 'github-reviewed', '2023', '04', 'GHSA-32qq-m9fh-f74w', 'GHSA-32qq-m9fh-f74w.json');
    expect(ghsaImporter.detect(path, readFileSync(path).subarray(0, 4096))).toBe(true);
    const records: AdvisoryRecord[] = [];
    for await (const r of ghsaImporter.read(path, () => {})) records.push(r);
    expect(records).toEqual([
      {
        id: 'CVE-2023-25330',
        aliases: ['GHSA-32qq-m9fh-f74w'],
        source: 'ghsa',
        sourceId: 'GHSA-32qq-m9fh-f74w',
        summary: 'MyBatis-Plus vulnerable to SQL injection via TenantPlugin',
        published: '2023-04-05T15:30:24Z',
        modified: '2023-04-14T20:31:15Z',
        severity: { cvssV3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', rating: 'critical' },
        references: ['https://nvd.nist.gov/vuln/detail/CVE-2023-25330', 'https://github.com/FCncdn/MybatisPlusTenantPluginSQLInjection-POC/blob/master/Readme.en.md', 'https://github.com/baomidou/mybatis-plus'],
        affected: [
          // no fix known, only "< 3.5.3.1" as the last known affected range: stays open (a "<" bound is not a fix)
          { ecosystem: 'maven', name: 'com.baomidou:mybatis-plus', status: 'affected', ranges: [{ introduced: '0' }] },
          { ecosystem: 'maven', name: 'com.baomidou:mybatis-plus-copy', status: 'affected', ranges: [{ introduced: '0', fixed: '3.5.0' }] },
        ],
      },
    ]);
  });

  it('maps the ecosystems of the other advisories (npm, Go, NuGet lower case, crates.io, Packagist)', async () => {
    const records: AdvisoryRecord[] = [];
    for await (const r of readFeedsFrom(join(ghsaDir, 'happy', 'ghsa'), () => {})) records.push(r);
    const packages = new Set(records.flatMap((r) => r.affected.map((a) => `${a.ecosystem} ${a.name}`)));
    expect(packages).toContain('npm formidable');
    expect(packages).toContain('go golang.org/x/crypto');
    expect(packages).toContain('nuget microsoft.netcore.app.runtime.linux-arm');
    expect(packages).toContain('crates.io sized-chunks');
    expect(packages).toContain('packagist contao/core-bundle');
    expect(packages).toContain('maven org.springframework.boot:spring-boot');
  });
});
