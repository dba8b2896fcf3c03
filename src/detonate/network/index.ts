export {
  createSandboxNetwork,
  cleanupStale,
  NetworkSetupError,
  NetworkTeardownError,
  NETNS_DIR,
  NETNS_PREFIX,
  DEFAULT_STATE_DIR,
  type SandboxNetwork,
  type SandboxNetworkOptions,
  type NamespaceSide,
  type CleanupStaleOptions,
  type CleanupStaleResult,
} from './sandbox-network.js';
export { checkNetworkPrerequisites, type NetworkPrerequisites, type NetworkTools } from './prerequisites.js';
// one conntrack parser for the whole stage: the sinkhole's, which also finds a redirected flow's original destination
export { parseConntrack, originalDestination, type ConntrackEntry, type ConntrackTuple } from '../sinkhole/conntrack.js';
export { chooseAddresses, DEFAULT_SUBNET_POOL, NetworkConfigError, type LinkAddresses } from './addressing.js';
export { DEFAULT_SINK_PORTS, type FirewallBackend, type SinkPorts } from './firewall.js';
export type { RunOptions, RunResult } from './exec.js';
