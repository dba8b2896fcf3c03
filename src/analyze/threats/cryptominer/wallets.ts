import { createHash } from 'node:crypto';
import { MAX_WALLET_CANDIDATES_PER_FORMAT } from '../../limits.js';

/**
 * Cryptocurrency address recognition with each format's own checksum, so random base58 or hex strings are not
 * taken for wallets: Monero (CryptoNote base58 + Keccak-256), Bitcoin (base58check, bech32/bech32m), Ethereum
 * (EIP-55 mixed-case checksum where present).
 */

export type WalletType = 'monero' | 'monero-integrated' | 'bitcoin' | 'ethereum';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE58_VALUE = new Map([...BASE58].map((c, i) => [c, i]));

// --- Keccak-256 (the original padding Monero and Ethereum use; node's sha3-256 pads differently) ---
const MASK64 = (1n << 64n) - 1n;
const ROUND_CONSTANTS: bigint[] = (() => {
  const rcBit = (t: number): number => {
    let r = 1;
    for (let i = 0; i < t % 255; i++) {
      r <<= 1;
      if (r & 0x100) r ^= 0x171;
    }
    return r & 1;
  };
  const out: bigint[] = [];
  for (let round = 0; round < 24; round++) {
    let rc = 0n;
    for (let j = 0; j < 7; j++) if (rcBit(j + 7 * round)) rc |= 1n << BigInt((1 << j) - 1);
    out.push(rc);
  }
  return out;
})();

function rotl(v: bigint, n: number): bigint {
  const s = BigInt(n % 64);
  return s === 0n ? v : ((v << s) | (v >> (64n - s))) & MASK64;
}

function keccakF(s: BigUint64Array): void {
  const c = new Array<bigint>(5);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) c[x] = s[x]! ^ s[x + 5]! ^ s[x + 10]! ^ s[x + 15]! ^ s[x + 20]!;
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5]! ^ rotl(c[(x + 1) % 5]!, 1);
      for (let y = 0; y < 25; y += 5) s[x + y] = s[x + y]! ^ d;
    }
    let x = 1;
    let y = 0;
    let current = s[1]!;
    for (let t = 0; t < 24; t++) {
      [x, y] = [y, (2 * x + 3 * y) % 5];
      const next = s[x + 5 * y]!;
      s[x + 5 * y] = rotl(current, ((t + 1) * (t + 2)) / 2);
      current = next;
    }
    for (let row = 0; row < 25; row += 5) {
      const a = [s[row]!, s[row + 1]!, s[row + 2]!, s[row + 3]!, s[row + 4]!];
      for (let i = 0; i < 5; i++) s[row + i] = a[i]! ^ (~a[(i + 1) % 5]! & a[(i + 2) % 5]!);
    }
    s[0] = s[0]! ^ ROUND_CONSTANTS[round]!;
  }
}

export function keccak256(data: Uint8Array): Buffer {
  const rate = 136;
  const padded = Buffer.alloc(Math.floor(data.length / rate) * rate + rate);
  padded.set(data);
  padded[data.length] = padded[data.length]! ^ 0x01;
  padded[padded.length - 1] = padded[padded.length - 1]! ^ 0x80;
  const state = new BigUint64Array(25);
  for (let block = 0; block < padded.length; block += rate) {
    for (let lane = 0; lane < rate / 8; lane++) state[lane] = state[lane]! ^ padded.readBigUInt64LE(block + lane * 8);
    keccakF(state);
  }
  const out = Buffer.alloc(32);
  for (let lane = 0; lane < 4; lane++) out.writeBigUInt64LE(state[lane]!, lane * 8);
  return out;
}

// --- Monero: base58 in 8-byte blocks (11 characters each) ---
const MONERO_BLOCK_CHARS = [0, 2, 3, 5, 6, 7, 9, 10, 11];

function decodeMoneroBase58(text: string): Buffer | undefined {
  const out: number[] = [];
  for (let pos = 0; pos < text.length; pos += 11) {
    const chunk = text.slice(pos, pos + 11);
    const bytes = MONERO_BLOCK_CHARS.indexOf(chunk.length);
    if (bytes <= 0) return undefined;
    let value = 0n;
    for (const ch of chunk) {
      const digit = BASE58_VALUE.get(ch);
      if (digit === undefined) return undefined;
      value = value * 58n + BigInt(digit);
    }
    if (value >> BigInt(bytes * 8) !== 0n) return undefined;
    for (let i = bytes - 1; i >= 0; i--) out.push(Number((value >> BigInt(i * 8)) & 0xffn));
  }
  return Buffer.from(out);
}

/** Standard (prefix 18, `4…`), subaddress (42, `8…`) or integrated (19, `4…`, 106 characters) Monero mainnet address. */
export function moneroAddressType(text: string): WalletType | undefined {
  if (text.length !== 95 && text.length !== 106) return undefined;
  const raw = decodeMoneroBase58(text);
  if (!raw || raw.length < 5) return undefined;
  const body = raw.subarray(0, raw.length - 4);
  if (!keccak256(body).subarray(0, 4).equals(raw.subarray(raw.length - 4))) return undefined;
  const prefix = raw[0];
  if (text.length === 95 && (prefix === 18 || prefix === 42)) return 'monero';
  if (text.length === 106 && prefix === 19) return 'monero-integrated';
  return undefined;
}

// --- Bitcoin ---
function sha256d(data: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/** Base58check P2PKH (`1…`) or P2SH (`3…`) mainnet address with a valid checksum. */
export function isBitcoinBase58Address(text: string): boolean {
  if (text.length < 26 || text.length > 35) return false;
  let value = 0n;
  for (const ch of text) {
    const digit = BASE58_VALUE.get(ch);
    if (digit === undefined) return false;
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  for (let i = 0; i < text.length && text[i] === '1'; i++) bytes.unshift(0);
  if (bytes.length !== 25) return false;
  const raw = Buffer.from(bytes);
  if (raw[0] !== 0x00 && raw[0] !== 0x05) return false;
  return sha256d(raw.subarray(0, 21)).subarray(0, 4).equals(raw.subarray(21));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32Polymod(values: number[]): number {
  const generators = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= generators[i]!;
  }
  return chk >>> 0;
}

/** Segwit mainnet address (`bc1…`): bech32 for witness v0, bech32m for v1+ (BIP-173, BIP-350). */
export function isBitcoinBech32Address(input: string): boolean {
  if (input !== input.toLowerCase() && input !== input.toUpperCase()) return false;
  const text = input.toLowerCase();
  if (!text.startsWith('bc1') || text.length < 14 || text.length > 74) return false;
  const data: number[] = [];
  for (const ch of text.slice(3)) {
    const v = BECH32_CHARSET.indexOf(ch);
    if (v < 0) return false;
    data.push(v);
  }
  const version = data[0]!;
  if (version > 16) return false;
  const checksum = bech32Polymod([3, 3, 0, 2, 3, ...data]);
  return checksum === (version === 0 ? 1 : 0x2bc830a3);
}

/** `0x` + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum. */
export function isEthereumAddress(text: string): boolean {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return false;
  const hex = text.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true;
  const hash = keccak256(Buffer.from(hex.toLowerCase(), 'ascii')).toString('hex');
  for (let i = 0; i < 40; i++) {
    const ch = hex[i]!;
    if (!/[a-fA-F]/.test(ch)) continue;
    const upper = parseInt(hash[i]!, 16) >= 8;
    if (upper !== (ch === ch.toUpperCase())) return false;
  }
  return true;
}

export interface WalletMatch {
  type: WalletType;
  offset: number;
  address: string;
  /** Whether this format can stand alone (Monero's checksum is strong and its addresses are used for little else). */
  standalone: boolean;
}

/**
 * Candidates of every format in one pass. Each alternative matches a whole run of letters and digits, and the formats
 * start differently (`4`/`8`, `1`/`3`, `bc1`, `0x`), so a run is a candidate of one format at most.
 */
const BASE58_CHAR = '[1-9A-HJ-NP-Za-km-z]';
const WALLET_CANDIDATE = new RegExp(
  '(?<![0-9A-Za-z])(?:' +
    `(?<monero>[48]${BASE58_CHAR}{94}(?:${BASE58_CHAR}{11})?)` +
    `|(?<bitcoin>[13]${BASE58_CHAR}{25,34})` +
    '|(?<bech32>(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71})' +
    '|(?<ethereum>0x[0-9a-fA-F]{40})' +
    ')(?![0-9A-Za-z])',
  'g',
);

type CandidateFormat = 'monero' | 'bitcoin' | 'bech32' | 'ethereum';

const CHECKS: Record<CandidateFormat, { check: (s: string) => WalletType | undefined; standalone: boolean }> = {
  monero: { check: moneroAddressType, standalone: true },
  bitcoin: { check: (s) => (isBitcoinBase58Address(s) ? 'bitcoin' : undefined), standalone: false },
  bech32: { check: (s) => (isBitcoinBech32Address(s) ? 'bitcoin' : undefined), standalone: false },
  ethereum: { check: (s) => (isEthereumAddress(s) ? 'ethereum' : undefined), standalone: false },
};

/** Every checksum-valid address in `text` (at most `limit` candidates of each format are checked), in text order. */
export function findWallets(text: string, limit = MAX_WALLET_CANDIDATES_PER_FORMAT): WalletMatch[] {
  const found: WalletMatch[] = [];
  const checked: Record<CandidateFormat, number> = { monero: 0, bitcoin: 0, bech32: 0, ethereum: 0 };
  let open = 4;
  for (const m of text.matchAll(WALLET_CANDIDATE)) {
    const groups = m.groups!;
    const format: CandidateFormat = groups.monero ? 'monero' : groups.bitcoin ? 'bitcoin' : groups.bech32 ? 'bech32' : 'ethereum';
    if (checked[format] >= limit) continue;
    checked[format]++;
    const { check, standalone } = CHECKS[format];
    const type = check(m[0]);
    if (type) found.push({ type, offset: m.index, address: m[0], standalone });
    if (checked[format] === limit && --open === 0) break;
  }
  return found;
}
