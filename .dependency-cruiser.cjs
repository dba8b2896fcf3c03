/**
 * The layering of src/, checked by `npm run lint` (dependency-cruiser): no import cycles, `model/` imports
 * nothing, production code never imports test code, and no stage imports a stage above it. The floors, lowest
 * first (README "Architecture"):
 *
 *   model                            the domain types every stage stands on
 *   util, config, progress, version  helpers with no stage knowledge
 *   image → layers → analyze → vuln → detonate → verdict → report → store → scan → rematch → crawl → worker → web → cli
 *
 * A folder may import its own floor and any floor below it.
 *
 * The sandbox runtimes live behind one seam (src/detonate/runtime/: runtime.ts, registry.ts, detect.ts, index.ts);
 * a runtime's own folder and their shared helpers are imported from inside runtime/ only. (What an import cannot
 * show, naming a runtime or branching on its name, test/lint/runtime-seam.test.ts checks.)
 */
const FOUNDATIONS = ['util', 'config', 'progress'];
const STAGES = ['image', 'layers', 'analyze', 'vuln', 'detonate', 'verdict', 'report', 'store', 'scan', 'rematch', 'crawl', 'worker', 'web', 'cli'];

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
    {
      name: 'runtime-seam',
      comment: "outside src/detonate/runtime/, a runtime is reached through the seam only (runtime.ts, registry.ts, detect.ts, index.ts): never through its own folder or the runtimes' shared helpers",
      severity: 'error',
      from: { pathNot: '^src/detonate/runtime/' },
      to: { path: '^src/detonate/runtime/', pathNot: '^src/detonate/runtime/(runtime|registry|detect|index)\\.ts$' },
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
