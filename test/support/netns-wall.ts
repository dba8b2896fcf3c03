/**
 * The second wall for tests that make namespaces or detonate samples: the test file re-runs itself under
 * `unshare --net --mount --propagation private` with a tmpfs over /run. Namespaces, /run/netns bind mounts, owner
 * records and runtime state then live in a private mount namespace, and "the host" the sample must not reach is a
 * fresh, empty network namespace (its loopback up). The inner run refuses to go on in the outer run's network
 * namespace.
 *
 *   const wall = netnsWall({ file: 'test/detonate/x.test.ts', title: 'x', expectPassed: 5 });
 *   wall.describe(() => { beforeAll(…); it(…); });   // registers only the half that belongs to this run
 */
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNetworkPrerequisites } from '../../src/detonate/network/index.js';
import { findExecutable, runBounded } from '../../src/detonate/network/exec.js';
import { repoRoot } from './paths.js';

const WALL_ENV = 'DETONATE_TEST_WALL';

export interface NetnsWallOptions {
  /** The test file, relative to the repository root (what the outer run hands to vitest). */
  file: string;
  /** Names both suites: "<title>: in the wall" and "<title>: suite inside unshare --net --mount". */
  title: string;
  /** Tests of the inner suite that must pass; the outer test fails on fewer, or on any failure. */
  expectPassed: number;
  /** Extra prerequisites of the inner suite (e.g. busybox); a string is the skip reason. */
  requires?: () => string | undefined;
  /** Budget of the whole inner run. Default 300 s. */
  timeoutMs?: number;
}

export interface NetnsWall {
  /** This process is the re-run inside the wall. */
  readonly inWall: boolean;
  /** Why this run's half is skipped, if it is. */
  readonly skipReason: string | undefined;
  /** The inner suite's title, as the outer run looks for it in the verbose report. */
  readonly innerTitle: string;
  /** Registers the inner suite (in the wall) or, outside, the one test that re-runs the file in the wall. */
  describe(body: () => void): void;
}

export function ownNetns(): string {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

function marker(file: string): { netns: string; file: string } | undefined {
  const raw = process.env[WALL_ENV];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { netns?: unknown; file?: unknown };
    if (typeof v.netns === 'string' && v.file === file) return { netns: v.netns, file };
  } catch {
    /* not ours */
  }
  return undefined;
}

export function netnsWall(options: NetnsWallOptions): NetnsWall {
  const inside = marker(options.file);
  const inWall = inside !== undefined;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const prereq = checkNetworkPrerequisites();
  const unshare = findExecutable('unshare');
  const outerSkip = !isRoot
    ? 'needs root'
    : !prereq.ok
      ? prereq.message
      : !unshare
        ? '`unshare` not found: install util-linux'
        : options.requires?.();
  const here = ownNetns();
  const innerSkip = here === 'unknown' || here === inside?.netns ? 'refusing: still in the host network namespace' : outerSkip;
  const skipReason = inWall ? innerSkip : outerSkip;
  const innerTitle = `${options.title}: in the wall`;
  const suffix = skipReason ? ` (skipped: ${skipReason})` : '';

  return {
    inWall,
    skipReason,
    innerTitle,
    describe(body) {
      if (inWall) {
        describe.skipIf(skipReason !== undefined)(`${innerTitle}${suffix}`, body);
        return;
      }
      describe.skipIf(skipReason !== undefined)(`${options.title}: suite inside unshare --net --mount${suffix}`, () => {
        const timeoutMs = options.timeoutMs ?? 300_000;
        it('passes in a fresh network and mount namespace', async () => {
          const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
          const r = await runBounded(
            unshare!,
            [
              '--net', '--mount', '--propagation', 'private', '--',
              'sh', '-c', 'mount -t tmpfs -o mode=0755 detonate-test-run /run && ip link set lo up && exec "$@"', 'sh',
              process.execPath, vitest, 'run', options.file, '--reporter=verbose',
            ],
            {
              cwd: repoRoot,
              env: { ...process.env, [WALL_ENV]: JSON.stringify({ netns: ownNetns(), file: options.file }), CI: 'true', NO_COLOR: '1' },
              timeoutMs: timeoutMs - 10_000,
              maxOutputBytes: 4 * 1024 * 1024,
            },
          );
          // eslint-disable-next-line no-control-regex
          const output = `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
          const lines = output.split('\n');
          // what the inner run measured or left pending is worth seeing in the outer report
          for (const line of lines) if (/\[(timing|skip|pending C)\b/.test(line)) console.log(line.trim());
          const tail = output.slice(-20000);
          expect(r.code, tail).toBe(0);
          const wallLines = lines.filter((l) => /^\s*[✓×↓]/.test(l) && l.includes(innerTitle));
          for (const l of wallLines.filter((x) => x.trimStart().startsWith('↓'))) console.log(`[skip] ${l.trim()}`);
          expect(wallLines.filter((l) => l.trimStart().startsWith('×')), tail).toEqual([]);
          expect(wallLines.filter((l) => l.trimStart().startsWith('✓')).length, tail).toBe(options.expectPassed);
        }, timeoutMs);
      });
    },
  };
}

/** The host's static busybox (Debian's busybox-static), or undefined. */
export function findBusybox(): string | undefined {
  return ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
}
