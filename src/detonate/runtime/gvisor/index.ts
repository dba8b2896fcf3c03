/** gVisor `runsc`: the runtime the registry loads as `gvisor`, and what only it knows. */
import type { Runtime } from '../runtime.js';
import { GvisorRuntime, type GvisorOptions } from './runtime.js';

export { firstExecFromLog, GvisorRuntime, type GvisorOptions } from './runtime.js';
export { GVISOR_HOST_TASKS, GVISOR_SANDBOX } from './sandbox.js';
export { parseGvisorStrace, GvisorStraceParser } from './strace-log.js';
export { GVISOR_BOOT_FIFO, GVISOR_LOG_NAME, GVISOR_TRACE, gvisorStraceFlags } from './trace.js';

export function createRuntime(options?: GvisorOptions): Runtime {
  return new GvisorRuntime(options);
}
