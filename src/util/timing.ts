/** Resolves with whatever `p` gives, or with `value` once `ms` have passed first (the timer never outlives the wait). */
export function within<T, U>(p: Promise<T>, ms: number, value: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<U>((r) => (timer = setTimeout(() => r(value), ms)))]).finally(() => clearTimeout(timer));
}
