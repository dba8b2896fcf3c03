import { describe, expect, it } from 'vitest';
import { indicatorsOf } from '../../src/store/rows.js';
import { sampleReport, sampleRun } from './sample-report.js';

describe('indicators of a run', () => {
  it('keeps a looked-up name whole: `/`, `?` and `#` are bytes of a DNS label, not the start of a URL path', () => {
    const name = '"><script>window.__xss=1</script>?a#b.test';
    const run = sampleRun();
    const report = sampleReport({
      malicious: true,
      run: {
        ...run,
        dns: [{ name: `${name}.`, type: 'A', pid: 1 }],
        connections: [{ ...run.connections[0]!, host: name.toUpperCase() }],
      },
    });
    const values = indicatorsOf(report).map((i) => `${i.kind} ${i.value}`);
    expect(values).toContain(`domain ${name}`);
    expect(values).toContain(`pool ${name}:3333`);
    expect(values.filter((v) => v.startsWith('domain '))).toEqual([`domain ${name}`]);
  });

  it('still reads a pool URL found in a file as its host and port', () => {
    const report = sampleReport({ malicious: true, run: null });
    report.findings.push({
      category: 'cryptominer', severity: 'high', title: 'a miner config', source: 'static', rule: 'cryptominer/config', path: 'etc/config.json', layer: 0, removedInLayer: null,
      evidence: { pools: ['stratum+tcp://Pool.Example.test:3333/path?x#y'] },
    });
    expect(indicatorsOf(report).map((i) => `${i.kind} ${i.value}`)).toContain('pool pool.example.test:3333');
  });
});
