export * from './events.js';
export { parseStrace, StraceParser, STRACE_FIFO } from './strace.js';
export type { TraceSource, TraceStart } from './trace-source.js';
export { BehaviourFolder, DEFAULT_NORMALISE_LIMITS, normalise } from './normalise.js';
export type { FoldedTrace, NormaliseOptions, TracedConnect, TracedKill, TracedProcess } from './normalise.js';
