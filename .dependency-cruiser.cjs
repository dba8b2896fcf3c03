/**
 * The layering of src/, checked by `npm run lint` (dependency-cruiser): no import cycles, `model/` imports
 * nothing, production code never imports test code, and no stage imports a stage above it. The floors, lowest
 * first (README "Architecture"):
 *
 *   model                            the domain types every stage stands on
 *   util, config, progress, version  helpers with no stage knowledge
 *   image → layers → analyze → vuln → detonate → verdict → report → store → scan → worker → cli
 *
 * A folder may import its own floor and any floor below it.
 */
const FOUNDATIONS = ['util', 'config', 'progress'];
const STAGES = ['image', 'layers', 'analyze', 'vuln', 'detonate', 'verdict', 'report', 'store', 'scan', 'worker', 'cli'];

const folder = (names) => `^src/(${names.join('|')})/`;

const upward = STAGES.map((stage, i) => ({
  name: `no-upward-import-from-${stage}`,
  comment: `${stage}/ may import only model/, ${FOUNDATIONS.join('/, ')}/ and the stages below it (${STAGES.slice(0, i).join(', ') || 'none'})`,
  severity: 'error',
  from: { path: folder([stage]) },
  to: { path: folder(STAGES.slice(i + 1)) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: split the shared part into a module both sides import',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-imports-nothing',
      comment: 'model/ is the ground floor: it imports no stage, no helper and no package',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { pathNot: '^src/model/' },
    },
    {
      name: 'foundations-import-no-stage',
      comment: 'util/, config/ and progress/ know no stage: they may import model/ and each other',
      severity: 'error',
      from: { path: folder(FOUNDATIONS) },
      to: { path: folder(STAGES) },
    },
    {
      name: 'src-never-imports-test',
      comment: 'test helpers live under test/support/; only tests (*.test.ts) may import them',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    // type-only imports count: a cycle through types is still a cycle a reader has to untangle
    tsPreCompilationDeps: true,
  },
};
