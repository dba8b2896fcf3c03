import { describe, expect, it } from 'vitest';
import { changeLine, listingText } from '../../src/cli/rematch.js';
import type { ChangeItem, ListedChange } from '../../src/store/rematch.js';

const revised: ChangeItem = {
  change: 'changed', kind: 'vulnerability', id: 'CVE-2099-1001', package: 'left-pad', installedVersion: '1.1.0', severity: 'critical', fixedVersion: '1.4.0',
  previous: { severity: 'high', fixedVersion: '1.3.0' },
};

describe('rematch output: revised vulnerabilities', () => {
  it('counts them on the image line and shows what each was', () => {
    const state = { malicious: false, categories: [], summary: 's' };
    expect(changeLine({ reference: 'r.example.test/app:1', platform: 'linux/amd64' }, { before: state, after: state, items: [revised] })).toBe(
      'r.example.test/app:1 (linux/amd64): 1 revised (severity or fix)',
    );
    const change: ListedChange = {
      scanId: 2, previousScanId: 1, reference: 'r.example.test/app:1', digest: `sha256:${'1'.repeat(64)}`, platform: 'linux/amd64', advisoryDbBuiltAt: '2099-01-02T00:00:00.000Z',
      previousAdvisoryDbBuiltAt: '2099-01-01T00:00:00.000Z', before: state, after: state, added: [], removed: [], changed: [revised], recordedAt: '2099-01-02T00:00:00.000Z',
    };
    const text = listingText({ advisoryDbBuiltAt: '2099-01-02T00:00:00.000Z', total: 1, changes: [change] });
    expect(text).toContain('  ~ CVE-2099-1001 left-pad 1.1.0 (high → critical, fixed in 1.3.0 → fixed in 1.4.0)');
  });
});
