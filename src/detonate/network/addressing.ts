import { createHash } from 'node:crypto';

/** The pair of addresses of one run: a /30 whose first host is the sink and second the sample. */
export interface LinkAddresses {
  sinkAddress: string;
  sampleAddress: string;
  prefixLength: 30;
  /** Network address of the /30, e.g. `10.213.4.8/30`. */
  subnet: string;
}

export const DEFAULT_SUBNET_POOL = '10.213.0.0/16';

export class NetworkConfigError extends Error {
  override name = 'NetworkConfigError';
}

export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function isPrivate(addr: number): boolean {
  const a = addr >>> 24;
  const b = (addr >>> 16) & 255;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function parseCidr(cidr: string): { base: number; prefix: number } {
  const [addrText, prefixText, ...rest] = cidr.split('/');
  const addr = addrText === undefined ? undefined : parseIPv4(addrText);
  const prefix = prefixText !== undefined && /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (addr === undefined || rest.length > 0 || !(prefix >= 8 && prefix <= 30)) {
    throw new NetworkConfigError(`subnet must be an IPv4 CIDR with a prefix from /8 to /30, got ${JSON.stringify(cidr)}`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (addr & mask) >>> 0;
  const last = (base | (~mask >>> 0)) >>> 0;
  if (!isPrivate(base) || !isPrivate(last)) {
    throw new NetworkConfigError(`subnet ${cidr} is not inside a private range (10/8, 172.16/12, 192.168/16)`);
  }
  return { base, prefix };
}

function fromSlash30(base30: number): LinkAddresses {
  return {
    sinkAddress: formatIPv4(base30 + 1),
    sampleAddress: formatIPv4(base30 + 2),
    prefixLength: 30,
    subnet: `${formatIPv4(base30)}/30`,
  };
}

/**
 * Picks the run's /30. Each run's pair of namespaces has its own routing tables and nothing else attached, so
 * two runs on the same /30 would not interfere; deriving it from the id only keeps logs of concurrent runs
 * distinguishable. Explicit addresses must be the two hosts of one private /30.
 */
export function chooseAddresses(
  id: string,
  options: { sinkAddress?: string; sampleAddress?: string; subnet?: string } = {},
): LinkAddresses {
  const { sinkAddress, sampleAddress } = options;
  if (sinkAddress !== undefined || sampleAddress !== undefined) {
    const sink = sinkAddress === undefined ? undefined : parseIPv4(sinkAddress);
    const sample = sampleAddress === undefined ? undefined : parseIPv4(sampleAddress);
    if ((sinkAddress !== undefined && sink === undefined) || (sampleAddress !== undefined && sample === undefined)) {
      throw new NetworkConfigError(`not an IPv4 address: ${sinkAddress ?? ''} ${sampleAddress ?? ''}`.trim());
    }
    const anchor = (sink ?? sample)!;
    const base30 = (anchor & 0xfffffffc) >>> 0;
    if (!isPrivate(base30)) throw new NetworkConfigError(`${formatIPv4(anchor)} is not a private address`);
    const hosts = [base30 + 1, base30 + 2];
    const sinkValue = sink ?? hosts.find((h) => h !== sample)!;
    const sampleValue = sample ?? hosts.find((h) => h !== sink)!;
    if (!hosts.includes(sinkValue) || !hosts.includes(sampleValue) || sinkValue === sampleValue) {
      throw new NetworkConfigError(
        `sinkAddress and sampleAddress must be the two host addresses of one /30 (e.g. ${formatIPv4(hosts[0]!)} and ${formatIPv4(hosts[1]!)})`,
      );
    }
    return {
      sinkAddress: formatIPv4(sinkValue),
      sampleAddress: formatIPv4(sampleValue),
      prefixLength: 30,
      subnet: `${formatIPv4(base30)}/30`,
    };
  }
  const { base, prefix } = parseCidr(options.subnet ?? DEFAULT_SUBNET_POOL);
  const slots = 2 ** (30 - prefix);
  const index = createHash('sha256').update(id).digest().readUInt32BE(0) % slots;
  return fromSlash30(base + index * 4);
}
