/**
 * The runtime seam as the rest of detonate/ sees it: the interface and its errors, the registry and the chooser.
 * A runtime's own folder (gvisor/, runc/) is never imported from outside runtime/.
 */
export * from './runtime.js';
export { createRuntime, createRuntimes, RUNTIME_NAMES, RUNTIMES, type RegisteredRuntime, type RuntimeModule } from './registry.js';
export { chooseRuntime, SANDBOX_CHOICES, type ChooseRuntimeOptions, type SandboxChoice } from './detect.js';
