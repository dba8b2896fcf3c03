/**
 * Miner configuration files: XMRig (and forks) JSON, cpuminer/ccminer JSON option files, xmr-stak `pools.txt` and
 * `config.txt`. Returns what a person needs to check the finding: the miner family, pool URLs, wallet fields.
 */
import { MAX_MINER_CONFIG_JSON_BYTES, MAX_MINER_CONFIG_POOLS } from '../../limits.js';

export interface MinerConfig {
  family: 'xmrig' | 'cpuminer' | 'xmr-stak';
  pools: string[];
  /** Values of the pool `user`/`wallet_address` fields (wallets are public identifiers, not secrets). */
  users: string[];
  /** Byte offset of the most telling key, for the evidence line. */
  offset: number;
}

function parseJsonLeniently(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Hand-edited configs: whole-line `//` comments and trailing commas.
    const cleaned = text.replace(/^[ \t]*\/\/[^\n]*$/gm, '').replace(/,(\s*[}\]])/g, '$1');
    try {
      return JSON.parse(cleaned);
    } catch {
      return undefined;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const strings = (values: unknown[]): string[] => values.filter((v): v is string => typeof v === 'string' && v !== '');

const XMRIG_KEYS = ['donate-level', 'donate-over-proxy', 'randomx', 'cpu', 'opencl', 'cuda', 'cc-client'];
const XMRIG_POOL_KEYS = ['algo', 'coin', 'nicehash', 'keepalive', 'rig-id', 'tls-fingerprint', 'daemon'];
const MINING_URL = /^(stratum[12]?\+(tcp|ssl|tls)s?:\/\/)|:\d{2,5}$/i;

function offsetOf(text: string, key: string): number {
  const at = text.indexOf(`"${key}"`);
  return at < 0 ? 0 : at;
}

function fromJson(text: string): MinerConfig | undefined {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{') || text.length > MAX_MINER_CONFIG_JSON_BYTES) return undefined;
  const doc = parseJsonLeniently(text);
  if (!isObject(doc)) return undefined;
  const pools = Array.isArray(doc.pools) ? doc.pools.filter(isObject) : [];
  const poolUrls = strings(pools.map((p) => p.url));
  if (poolUrls.length > 0) {
    const minerKeys = XMRIG_KEYS.some((k) => k in doc) || pools.some((p) => XMRIG_POOL_KEYS.some((k) => k in p));
    const miningUrls = poolUrls.some((u) => MINING_URL.test(u)) && pools.some((p) => 'user' in p);
    if (minerKeys || miningUrls) {
      return { family: 'xmrig', pools: poolUrls, users: strings(pools.map((p) => p.user)), offset: offsetOf(text, 'url') };
    }
  }
  // cpuminer / ccminer `-c` files: long option names as keys.
  if (typeof doc.url === 'string' && (typeof doc.user === 'string' || typeof doc.userpass === 'string')) {
    const algo = typeof doc.algo === 'string' || typeof doc.a === 'string';
    if (algo || /^stratum/i.test(doc.url)) {
      return { family: 'cpuminer', pools: [doc.url], users: strings([doc.user ?? doc.userpass]), offset: offsetOf(text, 'url') };
    }
  }
  return undefined;
}

const XMR_STAK_POOL = /"pool_address"\s*:\s*"([^"\n]{1,300})"/g;
const XMR_STAK_WALLET = /"wallet_address"\s*:\s*"([^"\n]{0,300})"/g;
const XMR_STAK_CONFIG_KEYS = ['"call_timeout"', '"retry_time"', '"giveup_limit"', '"verbose_level"', '"h_print_time"'];

function fromXmrStak(text: string): MinerConfig | undefined {
  const pools = [...text.matchAll(XMR_STAK_POOL)].slice(0, MAX_MINER_CONFIG_POOLS);
  if (pools.length > 0 && text.includes('"wallet_address"')) {
    return {
      family: 'xmr-stak',
      pools: pools.map((m) => m[1]!),
      users: [...text.matchAll(XMR_STAK_WALLET)].slice(0, MAX_MINER_CONFIG_POOLS).map((m) => m[1]!).filter((w) => w !== ''),
      offset: pools[0]!.index,
    };
  }
  if (XMR_STAK_CONFIG_KEYS.every((k) => text.includes(k))) {
    return { family: 'xmr-stak', pools: [], users: [], offset: text.indexOf('"call_timeout"') };
  }
  return undefined;
}

const XMRIG_URL = /"url"\s*:\s*"([^"\n]{1,300})"/g;
const XMRIG_USER = /"user"\s*:\s*"([^"\n]{1,300})"/g;

/** An XMRig config too broken for JSON.parse (truncated, commented out by hand) still has its telling keys. */
function fromXmrigKeys(text: string): MinerConfig | undefined {
  if (!text.includes('"donate-level"') || !text.includes('"pools"')) return undefined;
  const urls = [...text.matchAll(XMRIG_URL)].slice(0, MAX_MINER_CONFIG_POOLS);
  if (urls.length === 0) return undefined;
  return {
    family: 'xmrig',
    pools: urls.map((m) => m[1]!),
    users: [...text.matchAll(XMRIG_USER)].slice(0, MAX_MINER_CONFIG_POOLS).map((m) => m[1]!),
    offset: urls[0]!.index,
  };
}

/** A key `fromXmrStak` or `fromXmrigKeys` needs: one pass over the text instead of one per key. */
const TEXT_CONFIG_KEY = /"(?:pool_address|call_timeout|donate-level)"/;

export function parseMinerConfig(text: string): MinerConfig | undefined {
  const json = fromJson(text);
  if (json || !TEXT_CONFIG_KEY.test(text)) return json;
  return fromXmrStak(text) ?? fromXmrigKeys(text);
}
