/**
 * `--sample N --seed S`: a reproducible sample of N repositories (or N lines of a file).
 *
 * Selection is by hash, not by a random generator: every candidate gets the rank SHA-256(S, name), and the sample is
 * the N candidates with the smallest ranks ("bottom-k"). Whether a name is in the sample depends only on the seed and
 * on the set of names in the listing: not on the page size, the order in which pages arrive, how the registry sorts,
 * or where a crawl was interrupted. So the same seed over the same listing gives the same sample, a crawl resumed
 * from a cursor recomputes exactly the sample it was crawling, another seed gives an unrelated sample, and when the
 * listing changes only the names that entered or left it can change the sample. Reservoir sampling would not do: its
 * choice depends on the arrival order and on the generator's state, which pagination and resumption both disturb.
 * A max-heap of N entries keeps the memory at O(N) while the candidates stream past.
 */
import { createHash } from 'node:crypto';

/** The rank of `key` under `seed`: 64 hex digits, compared as strings (equal length, so as numbers). */
export function sampleRank(seed: string, key: string): string {
  return createHash('sha256').update(seed).update('\n').update(key).digest('hex');
}

interface Ranked<T> {
  rank: string;
  key: string;
  item: T;
}

/** a is ranked after b (larger rank; equal ranks by key, which only a hash collision would need). */
function after<T>(a: Ranked<T>, b: Ranked<T>): boolean {
  return a.rank > b.rank || (a.rank === b.rank && a.key > b.key);
}

/** The `size` items of smallest rank under `seed`, in no particular order. Items with the same key count once. */
export function bottomK<T>(items: Iterable<T>, size: number, seed: string, keyOf: (item: T) => string): T[] {
  const heap: Ranked<T>[] = [];
  const held = new Set<string>();
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!after(heap[i]!, heap[parent]!)) return;
      swap(i, parent);
      i = parent;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < heap.length && after(heap[left]!, heap[largest]!)) largest = left;
      if (right < heap.length && after(heap[right]!, heap[largest]!)) largest = right;
      if (largest === i) return;
      swap(i, largest);
      i = largest;
    }
  };
  if (size <= 0) return [];
  for (const item of items) {
    const key = keyOf(item);
    if (held.has(key)) continue;
    const entry = { rank: sampleRank(seed, key), key, item };
    if (heap.length < size) {
      heap.push(entry);
      held.add(key);
      siftUp(heap.length - 1);
    } else if (after(heap[0]!, entry)) {
      held.delete(heap[0]!.key);
      heap[0] = entry;
      held.add(key);
      siftDown(0);
    }
  }
  return heap.map((e) => e.item);
}
