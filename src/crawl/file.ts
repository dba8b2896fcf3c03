/**
 * `file:PATH` — one image reference per line, as `scan` takes them (`nginx`, `ghcr.io/o/r:1`, `host:5000/a@sha256:…`).
 * Blank lines and `#` comments (whole lines, or after a reference) are skipped; a line that is not a reference is
 * reported with its line number through the notice and skipped, the rest goes on. The cursor is the line number of
 * the last target, so a resumed crawl starts at the next line. `--sample N --seed S` takes N references by hash of
 * the normalised reference (sample.ts), kept in file order; `--tags` and order by pulls do not apply (each line names
 * its tag; a file knows no pull counts).
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseImageRef } from '../image/ref.js';
import { CrawlError, firstLine, quote } from './errors.js';
import { MAX_FILE_LINE_CHARS, resolveCrawlLimits } from './limits.js';
import { checkCursor, planOf } from './plan.js';
import { bottomK } from './sample.js';
import type { CrawlCursor, CrawlItem, CrawlOptions, CrawlSource, CrawlTarget } from './types.js';

type Line = { number: number; text: string } | { number: number; tooLong: true };

/** The lines of a file, numbered from 1; a line over `MAX_FILE_LINE_CHARS` is reported, not held in memory. */
async function* readLines(path: string, spec: string): AsyncGenerator<Line> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  let number = 0;
  let pending = '';
  let skipping = false;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf('\n', from);
        const piece = chunk.slice(from, nl === -1 ? undefined : nl);
        if (!skipping) {
          pending += piece;
          if (pending.length > MAX_FILE_LINE_CHARS) {
            pending = '';
            skipping = true;
          }
        }
        if (nl === -1) break;
        number++;
        yield skipping ? { number, tooLong: true } : { number, text: pending };
        pending = '';
        skipping = false;
        from = nl + 1;
      }
    }
  } catch (err) {
    throw new CrawlError(`${spec}: cannot read ${quote(path)}: ${firstLine(err)}`, 'check the path after file:');
  } finally {
    stream.destroy();
  }
  if (skipping || pending.length > 0) {
    number++;
    yield skipping ? { number, tooLong: true } : { number, text: pending };
  }
}

/** The reference on a line, `null` for a blank or comment line, or why the line is not a reference. */
function lineTarget(text: string): CrawlTarget | null | { invalid: string } {
  const hash = text.indexOf('#');
  const value = (hash === -1 ? text : text.slice(0, hash)).trim();
  if (!value) return null;
  try {
    const ref = parseImageRef(value);
    return {
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
      reference: ref.toString(),
      ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
    };
  } catch (err) {
    return { invalid: firstLine(err) };
  }
}

export class FileCrawlSource implements CrawlSource {
  readonly plan: string;

  constructor(
    readonly spec: string,
    readonly path: string,
    private readonly options: CrawlOptions,
  ) {
    this.plan = planOf(options, false);
  }

  async *targets(resume: CrawlCursor | null, signal?: AbortSignal): AsyncGenerator<CrawlItem> {
    const { options, spec } = this;
    const plan = this.plan;
    if (resume) checkCursor(resume, spec, plan);
    const notice = options.notice ?? (() => {});
    const path = resolve(options.cwd ?? process.cwd(), this.path);
    const { maxFileLines } = resolveCrawlLimits(options.limits);
    if (options.tags) notice(`${spec}: --tags does not apply to a file (each line names its tag)`);
    if (options.order === 'pulls') notice(`${spec}: a file has no pull counts; its references are crawled in file order`);

    const lines = async function* (): AsyncGenerator<{ number: number; target: CrawlTarget | null | { invalid: string } }> {
      for await (const line of readLines(path, spec)) {
        if (line.number > maxFileLines) {
          notice(`${spec}: more than ${maxFileLines} lines; the crawl reads the first ${maxFileLines}`);
          return;
        }
        yield { number: line.number, target: 'tooLong' in line ? { invalid: `the line is longer than ${MAX_FILE_LINE_CHARS} characters` } : lineTarget(line.text) };
      }
    };

    let chosen: Set<number> | undefined;
    if (options.sample) {
      const candidates: { number: number; reference: string }[] = [];
      for await (const { number, target } of lines()) {
        signal?.throwIfAborted();
        if (target && !('invalid' in target)) candidates.push({ number, reference: target.reference });
      }
      chosen = new Set(bottomK(candidates, options.sample.size, options.sample.seed, (c) => c.reference).map((c) => c.number));
    }

    const after = resume?.line ?? 0;
    for await (const { number, target } of lines()) {
      signal?.throwIfAborted();
      if (number <= after || target === null) continue;
      if ('invalid' in target) {
        notice(`${spec} line ${number}: ${target.invalid}`);
        continue;
      }
      if (chosen && !chosen.has(number)) continue;
      yield { target, cursor: { v: 1, source: spec, plan, line: number } };
    }
  }
}
