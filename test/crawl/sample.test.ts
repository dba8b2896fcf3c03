/** The hash sample (bottom-k): what a full sort by rank would pick, whatever the order or batching of the input. */
import { describe, expect, it } from 'vitest';
import { bottomK, sampleRank } from '../../src/crawl/sample.js';

const names = Array.from({ length: 2000 }, (_, i) => `ns/repo-${i}`);

function bySort(list: string[], size: number, seed: string): string[] {
  return [...new Set(list)].sort((a, b) => (sampleRank(seed, a) < sampleRank(seed, b) ? -1 : 1)).slice(0, size);
}

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('bottomK', () => {
  it('picks the N smallest ranks, whatever the input order, and counts a name once', () => {
    for (const size of [1, 7, 100, 2000, 5000]) {
      const expected = new Set(bySort(names, size, 'seed'));
      for (const order of [names, [...names].reverse(), shuffled(names, size), [...names, ...names.slice(0, 300)]]) {
        expect(new Set(bottomK(order, size, 'seed', (n) => n))).toEqual(expected);
      }
    }
    expect(bottomK(names, 0, 'seed', (n) => n)).toEqual([]);
  });

  it('changes with the seed', () => {
    const a = new Set(bottomK(names, 50, 'a', (n) => n));
    const b = new Set(bottomK(names, 50, 'b', (n) => n));
    expect([...a].filter((n) => b.has(n)).length).toBeLessThan(10);
  });
});
