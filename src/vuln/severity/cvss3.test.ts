import { describe, expect, it } from 'vitest';
import { CvssError } from './vector.js';
import { cvss3BaseScore, parseCvss3, roundUp, scoreCvss3 } from './cvss3.js';
import { allCombinations, hasOneDecimal, monotonicityViolations } from '../../../test/support/cvss-combinations.js';

/** Worked examples of FIRST's "CVSS v3.1: Examples" document: the CVE, its base vector and base score there. */
const FIRST_EXAMPLES: [string, string, number][] = [
  ['CVE-2013-1937 phpMyAdmin reflected XSS', 'AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
  ['CVE-2013-0375 MySQL stored SQL injection', 'AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4],
  ['CVE-2014-3566 SSLv3 POODLE', 'AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
  ['CVE-2012-1516 VMware guest to host escape', 'AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9],
  ['CVE-2009-0783 Apache Tomcat XML parser', 'AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L', 4.2],
  ['CVE-2012-0384 Cisco IOS command injection', 'AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2015-1098 Apple iWork denial of service', 'AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 7.8],
  ['CVE-2014-0160 OpenSSL Heartbleed', 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
  ['CVE-2014-6271 GNU Bash Shellshock', 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
  ['CVE-2008-1447 DNS Kaminsky bug', 'AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N', 6.8],
  ['CVE-2014-2005 Sophos login screen bypass', 'AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 6.8],
  ['CVE-2010-0467 Joomla directory traversal', 'AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N', 5.8],
  ['CVE-2012-1342 Cisco ASA ACL bypass', 'AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N', 5.8],
  ['CVE-2013-6014 Juniper proxy ARP', 'AV:A/AC:L/PR:N/UI:N/S:C/C:N/I:H/A:H', 9.3],
  ['CVE-2016-1645 Google Chrome PDFium', 'AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2016-0128 Windows SAM/LSAD downgrade (Badlock)', 'AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N', 6.8],
  ['CVE-2016-5729 Lenovo BIOS privilege escalation', 'AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H', 8.2],
  ['CVE-2014-9253 DokuWiki stored XSS', 'AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', 5.4],
  ['CVE-2011-1265 Microsoft Windows Bluetooth RCE', 'AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2014-2019 Apple iOS iCloud bypass', 'AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', 4.6],
  ['CVE-2014-0224 OpenSSL CCS injection', 'AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N', 7.4],
  ['CVE-2012-5376 Chrome IPC sandbox escape', 'AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H', 9.6],
];

const BASE_VALUES = [
  ['AV', ['N', 'A', 'L', 'P']],
  ['AC', ['L', 'H']],
  ['PR', ['N', 'L', 'H']],
  ['UI', ['N', 'R']],
  ['S', ['U', 'C']],
  ['C', ['H', 'L', 'N']],
  ['I', ['H', 'L', 'N']],
  ['A', ['H', 'L', 'N']],
] as const;
const ALL_BASE_VECTORS = allCombinations(BASE_VALUES);

describe('CVSS v3 base score', () => {
  it.each(FIRST_EXAMPLES)('%s: %s scores %s', (_name, vector, score) => {
    expect(scoreCvss3(`CVSS:3.1/${vector}`)).toBe(score);
    expect(scoreCvss3(`CVSS:3.0/${vector}`)).toBe(score);
  });

  it('scores no impact at all 0.0 and the worst case 10.0', () => {
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe(0);
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N')).toBe(0);
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')).toBe(10);
  });

  it('caps scope-changed scores at 10.0', () => {
    // impact 6.05 + exploitability 3.89, × 1.08 = 10.7 uncapped
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')).toBe(10);
    // impact 6.05 + exploitability 3.10, × 1.08 = 9.88
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H')).toBe(9.9);
  });

  it('uses the scope-changed Privileges Required weights when S:C', () => {
    // PR:L weighs 0.62 unchanged but 0.68 changed; PR:H 0.27 vs 0.50
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N')).toBe(2.7);
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:N/A:N')).toBe(4.1);
  });

  it('accepts metrics in any order, and temporal and environmental metrics that leave the base score alone', () => {
    const canonical = scoreCvss3('CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H');
    expect(scoreCvss3('CVSS:3.1/A:H/I:H/C:H/S:U/UI:R/PR:N/AC:H/AV:N')).toBe(canonical);
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R')).toBe(canonical);
    expect(
      scoreCvss3('CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H/E:P/RL:T/RC:C/CR:L/IR:L/AR:L/MAV:P/MAC:H/MPR:H/MUI:R/MS:C/MC:N/MI:N/MA:N'),
    ).toBe(canonical);
  });

  it('tolerates one trailing slash, as some GitHub advisories write', () => {
    expect(scoreCvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/')).toBe(9.8);
  });

  it('keeps the version and every metric given', () => {
    const parsed = parseCvss3(' CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:F \n');
    expect(parsed.version).toBe('3.0');
    expect(parsed.base).toEqual({ AV: 'L', AC: 'L', PR: 'L', UI: 'N', S: 'U', C: 'H', I: 'H', A: 'H' });
    expect(parsed.metrics.get('E')).toBe('F');
  });

  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', /missing base metric A\b/],
    ['CVSS:3.1/AV:N/AC:L/UI:N/S:U/C:H/I:H', /missing base metrics PR, A/],
    ['CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /AV appears more than once/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/E:U', /E appears more than once/],
    ['CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /"X" is not a value of AV/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:U/A:U', /"U" is not a value of I/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/Au:N', /unknown metric "Au"/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H//', /empty metric/],
    ['CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /empty metric/],
    ['CVSS:3.1/AV:N/AC/PR:N/UI:N/S:U/C:H/I:H/A:H', /"AC" is not of the form METRIC:VALUE/],
    ['CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h', /unknown metric "av"/],
    ['CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /does not start with CVSS:3.0\/ or CVSS:3.1\//],
    ['AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /does not start with CVSS:3.0\/ or CVSS:3.1\//],
    ['CVSS:3.1/', /no metrics/],
    ['CVSS:3.1/AV:N AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /contains " " at position 14/],
  ])('rejects %s', (vector, message) => {
    expect(() => parseCvss3(vector)).toThrow(CvssError);
    expect(() => parseCvss3(vector)).toThrow(message);
  });
});

describe('roundUp (CVSS v3.1 Appendix A)', () => {
  it('rounds up to one decimal', () => {
    expect(roundUp(4.02)).toBe(4.1);
    expect(roundUp(4.0)).toBe(4.0);
    expect(roundUp(0.01)).toBe(0.1);
    expect(roundUp(9.91)).toBe(10);
  });

  it('does not let binary floating-point error push an exact tenth up', () => {
    // a naive Math.ceil(x * 10) / 10 gives 4.1 and 0.4 for these
    expect(roundUp(4.000000000000001)).toBe(4.0);
    expect(roundUp(0.1 + 0.2)).toBe(0.3);
    expect(Math.ceil((0.1 + 0.2) * 10) / 10).toBe(0.4);
  });
});

describe(`every CVSS v3.1 base vector (${ALL_BASE_VECTORS.length})`, () => {
  const scores = new Map(ALL_BASE_VECTORS.map((vector) => [vector, scoreCvss3(`CVSS:3.1/${vector}`)]));

  it('covers the 2,592 base metric combinations', () => {
    expect(ALL_BASE_VECTORS.length).toBe(2592);
  });

  it('scores each in [0, 10] with one decimal, 0 exactly when there is no impact', () => {
    for (const [vector, score] of scores) {
      expect(score, vector).toBeGreaterThanOrEqual(0);
      expect(score, vector).toBeLessThanOrEqual(10);
      expect(hasOneDecimal(score), `${vector} → ${score}`).toBe(true);
      expect(score === 0, vector).toBe(vector.endsWith('C:N/I:N/A:N'));
    }
  });

  it('scores v3.0 and v3.1 alike (only the rounding was redefined, and no base score is affected)', () => {
    for (const [vector, score] of scores) expect(cvss3BaseScore(parseCvss3(`CVSS:3.0/${vector}`)), vector).toBe(score);
  });

  it('never lowers the score when one metric is made more severe (scope aside: it is not an ordered scale)', () => {
    for (const scope of ['U', 'C']) {
      const sameScope = new Map([...scores].filter(([vector]) => vector.includes(`/S:${scope}/`)));
      const metrics = BASE_VALUES.map(([name, values]) => [name, name === 'S' ? [scope] : values] as const);
      expect(monotonicityViolations(sameScope, metrics)).toEqual([]);
    }
  });
});
