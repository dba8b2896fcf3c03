/** Hardened `runc`: the runtime the registry loads as `runc`, and what only it knows. */
import type { Runtime } from '../runtime.js';
import { RuncRuntime, type RuncOptions } from './runtime.js';

export { RuncRuntime, type RuncOptions } from './runtime.js';
export { RUNC_SANDBOX } from './sandbox.js';
export { isRuncInit, RUNC_TRACE, RUNC_TRACE_START } from './trace.js';

export function createRuntime(options?: RuncOptions): Runtime {
  return new RuncRuntime(options);
}
