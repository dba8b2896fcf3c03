import { dataFileDigest } from '../../../config/paths.js';
import type { Analyzer, AnalysisOutput, AnalyzedFile, DetectedFinding } from '../../analyzer.js';
import type { Severity } from '../../../model/index.js';
import { candidateKinds, hasKind, Kind, looksLikeText, latin1Text } from '../candidates.js';
import { lineAt, printable } from '../evidence.js';
import { parseMinerConfig } from './config.js';
import { miningPoolDomains, type PoolDomains } from './pools.js';
import { findWallets, type WalletType } from './wallets.js';
import { placeOf, runsByItself, type TextPlace } from './where.js';
import { MAX_MINER_FINDINGS_PER_FILE, MAX_MINER_LINE_SCAN_CHARS, MAX_MINER_POOLS_IN_EVIDENCE, MAX_STRATUM_URLS_PER_FILE, MAX_TEXT_CANDIDATE_BYTES } from '../../limits.js';

const RESOURCE_HIJACKING = 'T1496';

const WANTED_KINDS = Kind.Config | Kind.Script | Kind.Persistence | Kind.History;
/** xmr-stak keeps its pool list and settings in `.txt` files, which no shared kind covers. */
const XMR_STAK_FILES = /(^|\/)(pools|config|cpu|amd|nvidia)\.txt$/;

const STRATUM_URL = /\bstratum[12]?\+(?:tcp|ssl|tls|udp)s?:\/\/(?:[^\s/@'"]{1,200}@)?(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9._-]{1,253})(?::(\d{1,5}))?/gi;

const MINER_PROGRAM = /(?:^|[\s;|&(`'"/=])(xmrig(?:-[a-z]+)?|xmr-stak(?:-[a-z]+)?|cpuminer(?:-[a-z]+)?|minerd|ccminer|t-rex|lolminer|nbminer|srbminer(?:-multi)?|ethminer|phoenixminer|teamredminer|nanominer|bzminer|gminer)(?:\.exe)?(?=[\s'";|&)]|$)/i;
const OPT_POOL = /(?:^|\s)(?:-o|--url)(?:\s+|=)['"]?(?:stratum[\w+]*:\/\/[^\s'"]+|[A-Za-z0-9.-]+\.[A-Za-z]{2,}:\d{2,5}|\d{1,3}(?:\.\d{1,3}){3}:\d{2,5})/;
const OPT_USER = /(?:^|\s)(?:-u|--user|-O|--userpass|--wallet)(?:\s+|=)['"]?[^\s'"-]/;
const OPT_DONATE = /(?:^|\s)--donate-level(?:\s+|=)\d/;
const OPT_ALGO = /(?:^|\s)(?:-a|--algo|--algorithm)(?:\s+|=)['"]?(?:cryptonight[\w/-]*|cn[/-][\w-]+|randomx|rx\/\w+|argon2[\w/-]*|ethash|etchash|kawpow|autolykos2?|equihash[\w-]*|scrypt(?:-n)?|sha256d|x11|x16r\w*|lyra2\w*|ghostrider|astrobwt|cuckatoo\d*|beamhash\w*|octopus|progpow\w*|yescrypt\w*)(?![\w/-])/i;
const OPT_COIN = /(?:^|\s)--coin(?:\s+|=)['"]?(?:monero|xmr|eth|etc|rvn|ravencoin|ergo|erg|zec|beam|btg|firo|kaspa|kas|wownero|dero|haven|conceal)(?![\w-])/i;

/**
 * Something every miner command line has (see `isMinerCommandLine`): a miner program's name, `--donate-level`,
 * `--coin`, or a pool or mining-algorithm option with its value. Looser than those tests and never across a line
 * break, so only the lines it matches need the full test.
 */
const MINER_LINE_HINT = new RegExp(
  [
    '--donate-level',
    '--coin',
    // Every program name of MINER_PROGRAM has one of these in it.
    'miner|xmr|t-rex',
    String.raw`(?:-o|--url)(?:[^\S\n]+|=)['"]?(?:stratum|[a-z0-9.-]+\.[a-z]{2,}:\d|\d{1,3}(?:\.\d{1,3}){3}:\d)`,
    String.raw`(?:-a|--algo|--algorithm)(?:[^\S\n]+|=)['"]?(?:cryptonight|cn[/-]|randomx|rx/|argon2|ethash|etchash|kawpow|autolykos|equihash|scrypt|sha256d|x11|x16r|lyra2|ghostrider|astrobwt|cuckatoo|beamhash|octopus|progpow|yescrypt)`,
  ].join('|'),
  'gi',
);

/** Words that put a Bitcoin or Ethereum address in mining context on the same line. */
const WALLET_CONTEXT = /stratum|(?:^|\s)(?:-u|--user|-O|--userpass|--wallet|-w)(?:\s|=)|["']?\b(?:user|wallet|username|wallet_address|rig-user)["']?\s*[:=]|\bpool\b|miner/i;

const WALLET_NAMES: Record<WalletType, string> = {
  monero: 'Monero',
  'monero-integrated': 'Monero (integrated)',
  bitcoin: 'Bitcoin',
  ethereum: 'Ethereum',
};

interface Line {
  text: string;
  offset: number;
}

/** The lines `MINER_LINE_HINT` matches, each once, cut to `MAX_MINER_LINE_SCAN_CHARS`. */
function* hintedLines(text: string): Generator<Line> {
  const hint = new RegExp(MINER_LINE_HINT);
  for (let m = hint.exec(text); m !== null; m = hint.exec(text)) {
    const start = text.lastIndexOf('\n', m.index - 1) + 1;
    let end = text.indexOf('\n', m.index);
    if (end < 0) end = text.length;
    yield { text: text.slice(start, Math.min(end, start + MAX_MINER_LINE_SCAN_CHARS)), offset: start };
    hint.lastIndex = end + 1;
  }
}

function lineOf(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return text.slice(start, Math.min(end < 0 ? text.length : end, start + MAX_MINER_LINE_SCAN_CHARS));
}

/** Whether a line invokes a miner: XMRig-style options, or a miner program with pool/user/algorithm options. */
export function isMinerCommandLine(line: string): boolean {
  if (OPT_DONATE.test(line)) return true;
  const pool = OPT_POOL.test(line);
  const user = OPT_USER.test(line);
  const algo = OPT_ALGO.test(line);
  if (pool && user) return true;
  if ((algo || OPT_COIN.test(line)) && (pool || user)) return true;
  if (MINER_PROGRAM.test(line)) return pool || user || algo || /(?:^|\s)(?:-c|--config)(?:\s+|=)\S+|(?:^|\s)--(?:cpu|threads|background|tls)\b|(?:^|\s)-[tB]\b/.test(line);
  return false;
}

function severityFor(place: TextPlace, normal: Severity): Severity {
  return runsByItself(place) ? 'critical' : normal;
}

function hostOfUrl(url: string): string | undefined {
  const m = /^(?:[a-z0-9+.-]+:\/\/)?(?:[^@/\s]*@)?(\[[^\]]+\]|[^/:\s]+)/i.exec(url);
  return m?.[1];
}

export function scanMinerText(file: AnalyzedFile, text: string, pools: PoolDomains): DetectedFinding[] {
  const findings: DetectedFinding[] = [];
  const place = placeOf(file.path);
  const add = (f: DetectedFinding): boolean => {
    if (findings.length >= MAX_MINER_FINDINGS_PER_FILE) return false;
    findings.push(f);
    return true;
  };
  const at = (offset: number) => lineAt(file.content, offset);

  const config = parseMinerConfig(text);
  if (config) {
    const first = config.pools[0];
    add({
      category: 'cryptominer',
      severity: 'critical',
      rule: 'cryptominer/miner-config',
      title: first ? `${config.family === 'xmr-stak' ? 'xmr-stak' : config.family === 'xmrig' ? 'XMRig' : 'cpuminer/ccminer'} miner configuration with pool ${printable(first, 120)}` : 'xmr-stak miner configuration',
      attack: [RESOURCE_HIJACKING],
      evidence: {
        family: config.family,
        pools: config.pools.slice(0, MAX_MINER_POOLS_IN_EVIDENCE).map((p) => printable(p, 200)),
        walletTypes: [...new Set(config.users.map((u) => findWallets(u, 1)[0]?.type ?? 'unknown'))],
        ...at(config.offset),
      },
    });
  }

  // Stratum URLs, one finding per pool host:port.
  const stratumHosts = new Set<string>();
  let stratumSeen = 0;
  for (const m of text.matchAll(STRATUM_URL)) {
    if (++stratumSeen > MAX_STRATUM_URLS_PER_FILE) break;
    const host = m[1]!.toLowerCase();
    const port = m[2];
    const key = `${host}:${port ?? ''}`;
    if (stratumHosts.has(key)) continue;
    stratumHosts.add(key);
    const knownPool = pools.match(host);
    add({
      category: 'cryptominer',
      severity: severityFor(place, 'high'),
      rule: 'cryptominer/stratum-url',
      title: `Stratum mining URL ${printable(port ? `${host}:${port}` : host, 120)} in ${place}`,
      attack: [RESOURCE_HIJACKING],
      evidence: { url: printable(m[0], 200), host: printable(host, 120), ...(port ? { port: Number(port) } : {}), ...(knownPool ? { knownPool } : {}), where: place, ...at(m.index) },
    });
  }

  let minerContext = config !== undefined || stratumHosts.size > 0;
  {
    let commandLines = 0;
    for (const line of hintedLines(text)) {
      if (!isMinerCommandLine(line.text)) continue;
      minerContext = true;
      if (++commandLines > 8) break;
      add({
        category: 'cryptominer',
        severity: severityFor(place, 'high'),
        rule: 'cryptominer/miner-command-line',
        title: `Cryptocurrency miner command line in ${place}`,
        attack: [RESOURCE_HIJACKING],
        evidence: { where: place, ...at(line.offset) },
      });
    }
  }

  const seenWallets = new Set<string>();
  for (const wallet of findWallets(text)) {
    if (seenWallets.has(wallet.address)) continue;
    if (!wallet.standalone && !minerContext && !WALLET_CONTEXT.test(lineOf(text, wallet.offset))) continue;
    seenWallets.add(wallet.address);
    add({
      category: 'cryptominer',
      severity: 'high',
      rule: 'cryptominer/wallet',
      title: `${WALLET_NAMES[wallet.type]} wallet address in ${place}`,
      attack: [RESOURCE_HIJACKING],
      evidence: { walletType: wallet.type, address: printable(wallet.address, 120), where: place, ...at(wallet.offset) },
    });
  }

  const seenPools = new Set<string>();
  const stratumHostNames = new Set([...stratumHosts].map((k) => k.slice(0, k.lastIndexOf(':'))));
  for (const poolUrl of config?.pools ?? []) {
    const host = hostOfUrl(poolUrl);
    if (host) stratumHostNames.add(host.toLowerCase());
  }
  for (const { host, offset, domain } of pools.findIn(text)) {
    const lower = host.toLowerCase();
    if (seenPools.has(lower) || stratumHostNames.has(lower)) continue;
    seenPools.add(lower);
    add({
      category: 'cryptominer',
      severity: 'high',
      rule: 'cryptominer/pool-domain',
      title: `Mining-pool domain ${printable(lower, 120)} in ${place}`,
      attack: [RESOURCE_HIJACKING],
      evidence: { host: printable(lower, 120), listedDomain: domain, where: place, ...at(offset) },
    });
  }
  return findings;
}

/**
 * Cryptominer traces in text files: miner configs, stratum URLs, miner command lines, wallet addresses and
 * mining-pool domains. Binaries are left to the YARA rules.
 */
export const cryptominerAnalyzer: Analyzer = {
  name: 'cryptominer',
  scansPayloads: true,
  version: 2,
  get configKey(): string {
    return `pools:${dataFileDigest('ioc/mining-pools.txt')}`;
  },
  wants(path, header) {
    if (header.size > MAX_TEXT_CANDIDATE_BYTES) return false;
    const kinds = candidateKinds(path, header);
    return hasKind(kinds, WANTED_KINDS | Kind.Executable) || (header.type === 'file' && header.size > 0 && XMR_STAK_FILES.test(path));
  },
  analyze(file: AnalyzedFile): AnalysisOutput {
    if (!looksLikeText(file.content)) return {};
    const text = latin1Text(file.content);
    try {
      const findings = scanMinerText(file, text, miningPoolDomains());
      return findings.length > 0 ? { findings } : {};
    } catch (err) {
      return { notices: [{ level: 'warning', message: `cryptominer scan failed: ${err instanceof Error ? err.message : String(err)}` }] };
    }
  },
};
