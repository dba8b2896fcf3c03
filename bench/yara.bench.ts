/**
 * YARA engine speed against the Debian `yara` CLI, on the files of a real Debian image that the YARA analyzer scans.
 *
 * 1. Extracts, from the Debian rootfs of `debianImage()`, the files `createYaraAnalyzer(...).wants()` selects, into a
 *    private temp dir.
 * 2. Rules: the four public corpus sets (test input, read in place) plus Detonate's bundled rules.
 * 3. (a) our YARA-X engine: read every file and `scan()` it, with enough scans in flight to keep every core busy;
 *    (b) `yara -C -r -p <cores>` over the same dir with the same rules, compiled by `yarac` (rules the CLI cannot
 *    compile left out). Best of N each; target: (a) ≤ 1.2 × (b).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import type { AssembledRules, BuildResult } from '../src/analyze/threats/yara/backend.js';
import { createYaraAnalyzer, scanVariables } from '../src/analyze/threats/yara/index.js';
import { compileRulesWith, loadRules } from '../src/analyze/threats/yara/loader.js';
import { YaraCliEngine } from '../src/analyze/threats/yara/yara-cli.js';
import { corpusDir } from '../test/support/paths.js';
import { debianImage } from '../test/support/debian-image.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const cores = availableParallelism();
const sets = ['elastic', 'reversinglabs', 'signature-base', 'yara-rules-gpl2'].map((s) => join(corpusDir, 'yara', s));

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function best(label: string, fn: () => Promise<void>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    const took = performance.now() - started;
    console.log(`  ${label} run ${i + 1}: ${seconds(took)}`);
    min = Math.min(min, took);
  }
  return min;
}

const work = await mkdtemp(join(tmpdir(), 'detonate-yara-bench-'));
try {
  const image = await debianImage();

  // Rules first: the analyzer's `wants` does not depend on them, but it is built from them.
  let started = performance.now();
  const rules = await loadRules({ bundled: true, dirs: sets, engine: 'yara-x' });
  const yaraxCompile = performance.now() - started;
  console.log(`YARA-X: ${rules.ruleCount} rules compiled in ${seconds(yaraxCompile)}, ${rules.skipped.length} left out`);

  // The rules as the CLI can compile them, recorded from the CLI engine's successful build.
  let cliSource = '';
  class RecordingCliEngine extends YaraCliEngine {
    override async build(assembled: AssembledRules): Promise<BuildResult> {
      const result = await super.build(assembled);
      if (result.ok) cliSource = assembled.source;
      return result;
    }
  }
  started = performance.now();
  const cliRules = await compileRulesWith(new RecordingCliEngine(), { bundled: true, dirs: sets });
  console.log(`yara CLI: ${cliRules.ruleCount} rules compiled (with isolation) in ${seconds(performance.now() - started)}, ${cliRules.skipped.length} left out`);
  await cliRules.close();
  const sourcePath = join(work, 'rules.yar');
  const compiledPath = join(work, 'rules.yarc');
  await writeFile(sourcePath, cliSource);
  const defines = ['filename', 'filepath', 'extension', 'filetype', 'owner'].flatMap((v) => ['-d', `${v}=`]);
  const yarac = spawnSync('yarac', ['-w', ...defines, sourcePath, compiledPath], { encoding: 'utf8' });
  if (yarac.status !== 0) throw new Error(`yarac failed: ${yarac.stderr}`);

  // The files the analyzer would scan.
  const analyzer = createYaraAnalyzer(rules);
  const filesDir = join(work, 'files');
  await mkdir(filesDir, { mode: 0o700 });
  const selected: { path: string; file: string; size: number }[] = [];
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const path = header.name.replace(/^\.?\/+/, '');
      const type = header.type === 'file' ? 'file' : 'other';
      if (type !== 'file' || !analyzer.wants(path, { path, type, size: header.size ?? 0, mode: header.mode ?? 0 })) {
        stream.on('end', next).resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        const file = join(filesDir, `f${selected.length}`);
        selected.push({ path, file, size: header.size ?? 0 });
        writeFile(file, Buffer.concat(chunks)).then(() => next(), reject);
      });
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  createReadStream(image.rootfsTar).pipe(extractor);
  await done;
  const totalBytes = selected.reduce((n, f) => n + f.size, 0);
  console.log(`files: ${selected.length} candidate files, ${(totalBytes / 1e6).toFixed(1)} MB, from ${image.rootfsTar}; ${cores} cores; best of ${runs}`);

  let matchCount = 0;
  const yarax = await best('YARA-X (read + scan)', async () => {
    let next = 0;
    matchCount = 0;
    const worker = async (): Promise<void> => {
      while (next < selected.length) {
        const f = selected[next++]!;
        const content = await readFile(f.file);
        const found = await rules.scan(content, scanVariables(f.path, content, 0));
        matchCount += found.length;
      }
    };
    await Promise.all(Array.from({ length: cores * 4 }, () => worker()));
  });
  console.log(`  YARA-X matches (rule × file): ${matchCount}`);

  let cliMatches = 0;
  const cli = await best(`yara -C -r -p ${cores}`, () => {
    const r = spawnSync('yara', ['-C', '-w', '-r', '-p', String(cores), ...defines, compiledPath, filesDir], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`yara failed (${r.status}): ${r.stderr.slice(0, 1000)}`);
    cliMatches = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
    return Promise.resolve();
  });
  console.log(`  yara CLI matches (rule × file): ${cliMatches}`);

  const ratio = yarax / cli;
  console.log(`YARA-X ${seconds(yarax)} vs yara CLI ${seconds(cli)}: ${ratio.toFixed(2)}× (target ≤ 1.20×) ${ratio <= 1.2 ? 'OK' : 'SLOWER THAN TARGET'}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
