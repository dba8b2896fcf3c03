/**
 * Real public rule sets (test input only, read from ../shared/corpus/yara; never copied into the repository) must load
 * through `loadRules` with YARA-X: nearly every rule compiles, and the few that cannot are left out one by one with
 * a reason, not with their whole file.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../../src/analyze/threats/yara/loader.js';
import { corpusDir } from '../../support/paths.js';

const yaraCorpus = join(corpusDir, 'yara');

/** Rules compiled, as measured with YARA-X (@litko/yara-x 0.3.0); a little slack for rule-set updates. */
const EXPECTED: Record<string, { compiled: number; skipped: [file: string, rule: string, reason: RegExp][] }> = {
  elastic: { compiled: 506, skipped: [] },
  reversinglabs: { compiled: 1204, skipped: [] },
  // Rules testing `filepath`/`filename`/`extension` compile because the loader declares LOKI's external variables.
  'signature-base': { compiled: 981, skipped: [] },
  'yara-rules-gpl2': {
    compiled: 10653,
    skipped: [
      ['malware/MALW_Httpsd_ELF.yar', 'Linux_Httpsd_malware_ARM', /^unknown identifier "is__elf"$/],
      ['malware/MALW_Httpsd_ELF.yar', 'Linux_Httpsd_malware_i686', /^unknown identifier "is__elf"$/],
      ['malware/MALW_Mirai_Okiru_ELF.yar', 'Mirai_Okiru', /^unknown identifier "is__elf"$/],
      ['malware/MALW_Mirai_Satori_ELF.yar', 'Mirai_Satori', /^unknown identifier "is__elf"$/],
      ['malware/MALW_Rebirth_Vulcan_ELF.yar', 'MALW_Rebirth_Vulcan_ELF', /^unknown identifier "is__elf"$/],
      ['malware/MALW_TinyShell_Backdoor_gen.yar', 'MALW_TinyShell_backconnect_ELF', /^unknown identifier "is__elf"$/],
      ['malware/MALW_TinyShell_Backdoor_gen.yar', 'MALW_TinyShell_backconnect_Gen', /^unknown identifier "is__elf"$/],
      ['malware/MALW_TinyShell_Backdoor_gen.yar', 'MALW_TinyShell_backdoor_Gen', /^unknown identifier "is__elf"$/],
      ['malware/MALW_Torte_ELF.yar', 'ELF_Linux_Torte', /^unknown identifier "is__elf"$/],
      ['malware/TOOLKIT_Mandibule.yar', 'TOOLKIT_Mandibule', /^unknown identifier "is__elf"$/],
      ['webshells/Wshell_ChineseSpam.yar', 'chinese_spam_spreader', /^invalid regular expression/],
    ],
  },
};

describe.skipIf(!existsSync(yaraCorpus))('YARA corpus rule sets load with YARA-X', () => {
  for (const [set, expected] of Object.entries(EXPECTED)) {
    it(`${set}: compiles ${expected.compiled} rules, leaves out only the known ones`, async () => {
      const dir = join(yaraCorpus, set);
      const rules = await loadRules({ bundled: false, dirs: [dir], engine: 'yara-x' });
      try {
        expect(rules.engine).toBe('yara-x');
        expect(rules.ruleCount).toBeGreaterThanOrEqual(Math.floor(expected.compiled * 0.98));
        expect(rules.ruleCount).toBeLessThanOrEqual(Math.ceil(expected.compiled * 1.02));
        const skipped = rules.skipped.map((s) => [relative(dir, s.file), s.rule, s.reason] as const).sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
        expect(skipped.map(([file, rule]) => [file, rule])).toEqual(expected.skipped.map(([file, rule]) => [file, rule]));
        skipped.forEach(([, , reason], i) => expect(reason).toMatch(expected.skipped[i]![2]));
        // Whole files are never left out of these sets.
        expect(rules.skipped.every((s) => s.rule !== undefined)).toBe(true);
      } finally {
        await rules.close();
      }
    }, 120_000);
  }
});
