export * from './runtime.js';
export { GvisorRuntime, type GvisorOptions } from './gvisor.js';
export { RuncRuntime, type RuncOptions } from './runc.js';
export { chooseRuntime, type ChooseRuntimeOptions, type SandboxChoice } from './detect.js';
