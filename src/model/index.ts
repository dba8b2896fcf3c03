/**
 * The ground floor every stage stands on: the report contract, the run record, severities, finding categories and
 * package ecosystems. It imports no stage.
 */
export * from './aggregate.js';
export * from './categories.js';
export * from './ecosystems.js';
export * from './layer-entry.js';
export * from './purl.js';
export * from './report.js';
export * from './run.js';
export * from './severity.js';
