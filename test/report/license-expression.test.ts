import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { combinedLicenseExpression, parseLicenseExpression, spdxLicenseId } from '../../src/report/license-expression.js';
import { SPDX_EXCEPTION_IDS, SPDX_LICENSE_IDS } from '../../src/report/spdx-license-ids.js';
import { repoRoot } from '../support/paths.js';

describe('SPDX license expressions', () => {
  it.each([
    ['MIT', 'MIT'],
    ['mit', 'MIT'],
    ['  Apache-2.0  ', 'Apache-2.0'],
    ['Apache-2.0 OR MIT', 'Apache-2.0 OR MIT'],
    ['apache-2.0 or mit', 'Apache-2.0 OR MIT'],
    ['(MIT OR Apache-2.0) AND BSD-3-Clause', '(MIT OR Apache-2.0) AND BSD-3-Clause'],
    ['(MIT  OR\tApache-2.0)AND BSD-3-Clause', '(MIT OR Apache-2.0) AND BSD-3-Clause'],
    ['GPL-2.0+', 'GPL-2.0+'],
    ['GPL-2.0-or-later WITH Classpath-exception-2.0', 'GPL-2.0-or-later WITH Classpath-exception-2.0'],
    ['LGPL-2.1-only OR LicenseRef-proprietary', 'LGPL-2.1-only OR LicenseRef-proprietary'],
    ['DocumentRef-other:LicenseRef-x.1', 'DocumentRef-other:LicenseRef-x.1'],
  ])('accepts %j as %j', (text, expression) => {
    expect(parseLicenseExpression(text)?.expression).toBe(expression);
  });

  it.each([
    ['', 'empty'],
    ['GPL-2+', 'Debian short name, not an SPDX id'],
    ['BSD License', 'a PyPI classifier'],
    ['GPLv2+ and LGPLv2+', 'old Fedora style'],
    ['MIT AND', 'a dangling operator'],
    ['MIT Apache-2.0', 'two ids with no operator'],
    ['MIT WITH MIT', 'WITH needs an exception'],
    ['Classpath-exception-2.0', 'an exception alone'],
    ['((MIT)', 'unbalanced parentheses'],
    ['MIT)', 'unbalanced parentheses'],
    ['NOASSERTION', 'not a license'],
    ['NONE', 'not a license'],
    ['LicenseRef-a_b', '"_" is not allowed in an idstring'],
  ])('refuses %j (%s)', (text) => {
    expect(parseLicenseExpression(text)).toBeUndefined();
  });

  it('refuses overlong and deeply nested input without deep recursion', () => {
    expect(parseLicenseExpression(`${'('.repeat(5000)}MIT${')'.repeat(5000)}`)).toBeUndefined();
    expect(parseLicenseExpression(`${'('.repeat(200)}MIT${')'.repeat(200)}`)).toBeUndefined();
    expect(parseLicenseExpression(`${'('.repeat(30)}MIT${')'.repeat(30)}`)?.expression).toBe(`${'('.repeat(30)}MIT${')'.repeat(30)}`);
  });

  it('tells single ids from compound expressions and from license references', () => {
    expect(parseLicenseExpression('MIT')).toEqual({ expression: 'MIT', simple: true, usesLicenseRef: false });
    expect(parseLicenseExpression('GPL-2.0+')?.simple).toBe(true);
    expect(parseLicenseExpression('MIT OR ISC')?.simple).toBe(false);
    expect(parseLicenseExpression('LicenseRef-x')).toEqual({ expression: 'LicenseRef-x', simple: false, usesLicenseRef: true });
  });

  it('combines several declared licenses with AND, or gives up when one is not SPDX', () => {
    expect(combinedLicenseExpression(['MIT'])?.expression).toBe('MIT');
    expect(combinedLicenseExpression(['MIT', 'mit', 'Apache-2.0 OR ISC'])?.expression).toBe('MIT AND (Apache-2.0 OR ISC)');
    expect(combinedLicenseExpression(['MIT', 'Artistic'])).toBeUndefined();
    expect(combinedLicenseExpression([])).toBeUndefined();
  });

  it('finds SPDX ids case-insensitively', () => {
    expect(spdxLicenseId('gpl-3.0-only')).toBe('GPL-3.0-only');
    expect(spdxLicenseId('GPL-3')).toBeUndefined();
  });

  it('knows every identifier that the CycloneDX 1.6 schema accepts as a license id, and no other', () => {
    const schema = JSON.parse(
      readFileSync(join(repoRoot, 'node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json'), 'utf8'),
    ) as { enum: string[] };
    const ours = new Set([...SPDX_LICENSE_IDS, ...SPDX_EXCEPTION_IDS]);
    const missing = schema.enum.filter((id) => !ours.has(id));
    const extra = [...ours].filter((id) => !schema.enum.includes(id));
    expect(missing, 'add these to src/report/spdx-license-ids.ts').toEqual([]);
    expect(extra, 'CycloneDX would refuse these as license ids').toEqual([]);
    expect(SPDX_LICENSE_IDS.filter((id) => SPDX_EXCEPTION_IDS.includes(id))).toEqual([]);
  });
});
