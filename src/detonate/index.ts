/** The detonation stage's public face: run an image in the sandbox, pick the runtime, clean up after crashes. */
export {
  detonateImage,
  DetonationError,
  type DetonateOptions,
  type DetonationMonitor,
  type DetonationResult,
  type DroppedFile,
  type MonitorFindings,
} from './session.js';
export { DEFAULT_DETONATE_TIMEOUT_MS, DEFAULT_DETONATION_LIMITS, type DetonationLimits } from './limits.js';
export { chooseRuntime, RUNTIME_NAMES, RuntimeError, type Runtime, type RuntimeName, type SandboxChoice } from './runtime/index.js';
export {
  cleanupStaleDetonations,
  DEFAULT_RUN_RECORD_DIR,
  type CleanupStaleDetonationsOptions,
  type CleanupStaleDetonationsResult,
} from './stale.js';
