export * from './events.js';
export { parseStrace, StraceParser, STRACE_FIFO } from './strace.js';
export type { TraceSource, TraceStart } from './trace-source.js';
export { BehaviourFolder, normalise } from './normalise.js';
export { DEFAULT_NORMALISE_LIMITS, DEFAULT_PARSE_LIMITS, type ParseLimits } from './limits.js';
export type { FoldedTrace, NormaliseOptions, TracedConnect, TracedKill, TracedProcess } from './normalise.js';
