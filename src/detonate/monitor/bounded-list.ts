/**
 * A list of at most `capacity` records that a flood cannot take over: records are grouped (by program, directory,
 * destination), and when the list is full a newcomer takes the slot of a record from a crowded group, never the
 * first records of a group. So the first of everything stays, a repeated thing keeps its first and its latest
 * records, and what comes after a flood of one kind still gets in. Pinned records (a file that was then run as a
 * program, the program itself) are never given up.
 */
export interface BoundedListOptions<T> {
  capacity: number;
  /** Records of each group that are never given up for another record. */
  keepFirst: number;
  group(record: T): string;
}

/** A group's records, oldest first: the first `keep` (never given up for another group's record), then a queue. */
class Group<T> {
  readonly firsts: T[] = [];
  private rest: (T | undefined)[] = [];
  private head = 0;
  constructor(private readonly keep: number) {}

  get length(): number {
    return this.firsts.length + this.rest.length - this.head;
  }

  push(record: T): void {
    if (this.firsts.length < this.keep && this.rest.length === this.head) this.firsts.push(record);
    else this.rest.push(record);
  }

  /** The oldest record after the first ones that `skip` does not rule out; else, with `orLastFirst`, the newest of the first. */
  candidate(skip: (record: T) => boolean, orLastFirst: boolean): T | undefined {
    for (let i = this.head; i < this.rest.length; i += 1) {
      const r = this.rest[i];
      if (r !== undefined && !skip(r)) return r;
    }
    if (!orLastFirst) return undefined;
    for (let i = this.firsts.length - 1; i >= 1; i -= 1) if (!skip(this.firsts[i]!)) return this.firsts[i];
    return undefined;
  }

  remove(record: T): void {
    if (this.rest[this.head] === record) {
      this.rest[this.head] = undefined;
      this.head += 1;
    } else {
      const i = this.firsts.indexOf(record);
      if (i >= 0) {
        this.firsts.splice(i, 1);
        // the oldest of the rest becomes one of the first
        const next = this.shift();
        if (next !== undefined) this.firsts.push(next);
      } else {
        const j = this.rest.indexOf(record, this.head);
        if (j >= 0) this.rest.splice(j, 1);
      }
    }
    this.compact();
  }

  private shift(): T | undefined {
    while (this.head < this.rest.length) {
      const r = this.rest[this.head];
      this.rest[this.head] = undefined;
      this.head += 1;
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.rest.length) {
      this.rest = this.rest.slice(this.head);
      this.head = 0;
    }
  }
}

export class BoundedList<T> {
  private readonly listed = new Set<T>();
  private readonly groups = new Map<string, Group<T>>();
  /** record → the group it was listed under (a record's group can change: a fork that execs) */
  private readonly groupOf = new Map<T, string>();
  private readonly pinned = new Set<T>();
  private readonly isPinned = (record: T): boolean => this.pinned.has(record);

  constructor(private readonly options: BoundedListOptions<T>) {}

  get size(): number {
    return this.listed.size;
  }

  has(record: T): boolean {
    return this.listed.has(record);
  }

  values(): T[] {
    return [...this.listed];
  }

  /**
   * Lists `record` if there is room or a slot it may take, and says whether it did. `pin`: it is never given up,
   * and when no crowded group has room to spare it takes the newest unpinned slot.
   */
  offer(record: T, pin = false): boolean {
    if (this.listed.has(record)) {
      if (pin) this.pinned.add(record);
      return true;
    }
    if (this.listed.size >= this.options.capacity) {
      const victim = this.victimFor(this.options.group(record), pin);
      if (victim === undefined) return false;
      this.remove(victim);
    }
    this.listed.add(record);
    this.attach(record, this.options.group(record));
    if (pin) this.pinned.add(record);
    return true;
  }

  /** Never give `record` up from now on (when it is listed). */
  pin(record: T): void {
    if (this.listed.has(record)) this.pinned.add(record);
  }

  /** The record's group changed (a fork that exec'd another program): it moves to the end of its new group. */
  regroup(record: T): void {
    const old = this.groupOf.get(record);
    if (old === undefined) return;
    const now = this.options.group(record);
    if (now === old) return;
    this.detach(record, old);
    this.attach(record, now);
  }

  private remove(record: T): void {
    this.listed.delete(record);
    this.pinned.delete(record);
    const g = this.groupOf.get(record);
    if (g !== undefined) this.detach(record, g);
  }

  private attach(record: T, group: string): void {
    let members = this.groups.get(group);
    if (!members) {
      members = new Group<T>(this.options.keepFirst);
      this.groups.set(group, members);
    }
    members.push(record);
    this.groupOf.set(record, group);
  }

  private detach(record: T, group: string): void {
    this.groupOf.delete(record);
    const members = this.groups.get(group);
    if (!members) return;
    members.remove(record);
    if (members.length === 0) this.groups.delete(group);
  }

  private victimFor(group: string, pin: boolean): T | undefined {
    const own = this.groups.get(group);
    // a crowded group of its own: it replaces its group's oldest record after the first few
    const fromOwn = own?.candidate(this.isPinned, false);
    if (fromOwn !== undefined) return fromOwn;
    // otherwise the most crowded group gives up a record (never its first), when that evens things out
    let crowded: Group<T> | undefined;
    for (const members of this.groups.values()) if (!crowded || members.length > crowded.length) crowded = members;
    if (crowded && crowded !== own && crowded.length > (own?.length ?? 0) + 1) {
      const v = crowded.candidate(this.isPinned, true);
      if (v !== undefined) return v;
    }
    if (!pin) return undefined;
    // a pinned newcomer takes the newest unpinned record
    const all = [...this.listed];
    for (let i = all.length - 1; i >= 0; i -= 1) if (!this.pinned.has(all[i]!)) return all[i];
    return undefined;
  }
}
