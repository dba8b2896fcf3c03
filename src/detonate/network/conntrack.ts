/** One direction of a conntrack entry. Ports are absent for protocols without them (icmp). */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  /** `tcp`, `udp`, `icmp`, … as the kernel names it. */
  protocol: string;
  /** TCP state such as `ESTABLISHED` or `TIME_WAIT`; absent for other protocols. */
  state?: string;
  /** The flow as the sample sent it: `dst`/`dport` are where it meant to go, before the redirect. */
  original: ConntrackTuple;
  /** The flow as answered: `src`/`sport` are the sink's own listener. */
  reply?: ConntrackTuple;
  /** Bracketed flags such as `ASSURED`, `UNREPLIED`. */
  flags: string[];
}

function tupleFrom(fields: Map<string, string>): ConntrackTuple | undefined {
  const src = fields.get('src');
  const dst = fields.get('dst');
  if (src === undefined || dst === undefined) return undefined;
  const tuple: ConntrackTuple = { src, dst };
  const sport = Number(fields.get('sport'));
  const dport = Number(fields.get('dport'));
  if (fields.has('sport') && Number.isInteger(sport)) tuple.sport = sport;
  if (fields.has('dport') && Number.isInteger(dport)) tuple.dport = dport;
  return tuple;
}

/**
 * Parses /proc/net/nf_conntrack text. Lines that do not look like entries are skipped, so truncated or odd
 * input yields fewer entries, never an error.
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    // ipv4 2 tcp 6 119 [STATE] key=value ...
    if (words.length < 6 || (words[0] !== 'ipv4' && words[0] !== 'ipv6')) continue;
    const protocol = words[2]!;
    const tuples: Map<string, string>[] = [new Map()];
    const flags: string[] = [];
    let state: string | undefined;
    for (const word of words.slice(5)) {
      const bracket = /^\[([A-Z_]+)\]$/.exec(word);
      if (bracket) {
        flags.push(bracket[1]!);
        continue;
      }
      const eq = word.indexOf('=');
      if (eq < 0) {
        if (/^[A-Z_]+$/.test(word) && state === undefined) state = word;
        continue;
      }
      const key = word.slice(0, eq);
      const value = word.slice(eq + 1);
      let current = tuples[tuples.length - 1]!;
      if (key === 'src' && current.has('src')) {
        current = new Map();
        tuples.push(current);
      }
      if (!current.has(key)) current.set(key, value);
    }
    const original = tupleFrom(tuples[0]!);
    if (!original) continue;
    const reply = tuples[1] ? tupleFrom(tuples[1]) : undefined;
    entries.push({
      protocol,
      ...(state === undefined ? {} : { state }),
      original,
      ...(reply === undefined ? {} : { reply }),
      flags,
    });
  }
  return entries;
}
