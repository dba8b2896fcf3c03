export * from './events.js';
export { parseStrace, StraceParser } from './strace.js';
export { parseGvisorStrace, GvisorStraceParser } from './gvisor.js';
export { BehaviourFolder, DEFAULT_NORMALISE_LIMITS, normalise } from './normalise.js';
export type { FoldedTrace, NormaliseOptions, TracedConnect, TracedKill, TracedProcess } from './normalise.js';
