import { delimiter } from 'node:path';
import { findExecutable, toolSearchDirs } from './exec.js';
import type { FirewallBackend } from './firewall.js';

export interface NetworkTools {
  ip: string;
  nsenter: string;
  firewall: FirewallBackend;
  /** `nft` or `iptables-restore`, absolute. */
  firewallTool: string;
  /** `iptables` (only with the iptables backend), for teardown. */
  iptables?: string;
}

export interface NetworkPrerequisites {
  ok: boolean;
  /** What is missing and what to install; empty when ok. */
  problems: string[];
  /** One readable paragraph built from `problems`; empty when ok. */
  message: string;
  /** Also set when something other than a tool is missing, so callers can report what was found. */
  tools?: NetworkTools;
  /** Set when nft is missing but iptables works as a fallback. */
  note?: string;
}

export interface PrerequisiteCheckOptions {
  /** Search only these PATH entries (colon-separated) instead of PATH plus the sbin directories. */
  path?: string;
  /** Override the root check (tests). */
  isRoot?: boolean;
}

/**
 * Checks what the sandbox network needs: root, `ip` (iproute2), `nsenter` (util-linux), `nft` (nftables) or
 * else `iptables-restore` (iptables). The kernel's conntrack support is checked when a network is set up. Never throws.
 */
export function checkNetworkPrerequisites(options: PrerequisiteCheckOptions = {}): NetworkPrerequisites {
  const dirs = options.path === undefined ? toolSearchDirs() : options.path.split(delimiter).filter(Boolean);
  const problems: string[] = [];
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) problems.push('network isolation needs root (to create network namespaces and veth links)');
  const ip = findExecutable('ip', dirs);
  if (!ip) problems.push('`ip` not found: install iproute2 (apt-get install iproute2)');
  const nsenter = findExecutable('nsenter', dirs);
  if (!nsenter) problems.push('`nsenter` not found: install util-linux (apt-get install util-linux)');
  const nft = findExecutable('nft', dirs);
  const iptablesRestore = findExecutable('iptables-restore', dirs);
  const iptables = findExecutable('iptables', dirs);
  let note: string | undefined;
  if (!nft && !(iptablesRestore && iptables)) {
    problems.push('`nft` not found: install nftables (apt-get install nftables)');
  } else if (!nft) {
    note = '`nft` not found, using iptables-restore instead; install nftables to use the preferred backend';
  }
  const tools: NetworkTools | undefined =
    ip && nsenter && (nft || (iptablesRestore && iptables))
      ? nft
        ? { ip, nsenter, firewall: 'nft', firewallTool: nft }
        : { ip, nsenter, firewall: 'iptables', firewallTool: iptablesRestore!, iptables: iptables! }
      : undefined;
  return {
    ok: problems.length === 0,
    problems,
    message: problems.length === 0 ? '' : `Detonation network isolation is unavailable: ${problems.join('; ')}.`,
    ...(tools ? { tools } : {}),
    ...(note ? { note } : {}),
  };
}
