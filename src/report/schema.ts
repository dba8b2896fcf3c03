/**
 * The JSON Schema of the report contract (`schema/report.schema.json`, draft 2020-12) and a validator for it.
 *
 * The published schema leaves objects open, so a consumer pinned to schemaVersion 1 keeps accepting reports that
 * gained optional keys. `strict` closes every object the schema describes key by key (all but the free-form maps:
 * labels, metadata, evidence, details): Detonate's own tests validate in strict mode, so a key the producer writes
 * and the schema does not describe fails there.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export const REPORT_SCHEMA_URL = new URL('../../schema/report.schema.json', import.meta.url);

export interface ReportValidation {
  ok: boolean;
  /** One line per problem: the JSON pointer of the offending value and what is wrong with it. */
  errors: string[];
}

export interface ValidateReportOptions {
  /** Reject keys the schema does not describe (default false: the published, forward-compatible schema). */
  strict?: boolean;
}

type JsonObject = Record<string, unknown>;

let schemaText: string | undefined;

/** The schema as published, parsed afresh (callers may change their copy). */
export function loadReportSchema(): JsonObject {
  schemaText ??= readFileSync(REPORT_SCHEMA_URL, 'utf8');
  return JSON.parse(schemaText) as JsonObject;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets `additionalProperties: false` on every schema object that lists `properties` and says nothing about others. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(closeObjects);
    return;
  }
  if (!isObject(node)) return;
  if (isObject(node.properties) && !('additionalProperties' in node)) node.additionalProperties = false;
  for (const value of Object.values(node)) closeObjects(value);
}

/** The validator of one report object (`$defs/report`), compiled once per mode. */
const validators = new Map<boolean, ValidateFunction>();

function reportValidator(strict: boolean): ValidateFunction {
  let validate = validators.get(strict);
  if (!validate) {
    const schema = loadReportSchema();
    if (strict) closeObjects(schema);
    // ajv-formats is CommonJS: under NodeNext its function is the default export's `default`
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    addFormats(ajv);
    ajv.addSchema(schema);
    validate = ajv.getSchema(`${String(schema.$id)}#/$defs/report`);
    if (!validate) throw new Error(`${REPORT_SCHEMA_URL.pathname} has no $defs/report`);
    validators.set(strict, validate);
  }
  return validate;
}

function describe(error: ErrorObject, prefix: string): string {
  const where = `${prefix}${error.instancePath}` || '(root)';
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (error.keyword === 'additionalProperties') detail = `: ${JSON.stringify(params.additionalProperty)}`;
  else if (error.keyword === 'enum') detail = `: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  else if (error.keyword === 'const') detail = `: ${JSON.stringify(params.allowedValue)}`;
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}

function validateOne(obj: unknown, strict: boolean, prefix: string): string[] {
  const validate = reportValidator(strict);
  if (validate(obj)) return [];
  const errors = validate.errors ?? [];
  // `must match "then" schema` and the like only restate the precise errors of the branch taken
  const precise = errors.filter((e) => !['if', 'oneOf', 'anyOf'].includes(e.keyword));
  return (precise.length > 0 ? precise : errors).map((e) => describe(e, prefix));
}

/**
 * Validates a parsed JSON report against the schema: one report object, or an array of them (as `--format json`
 * writes for several images; each is checked on its own, errors point into the array).
 */
export function validateReport(obj: unknown, options: ValidateReportOptions = {}): ReportValidation {
  const strict = options.strict ?? false;
  const errors = Array.isArray(obj) ? obj.flatMap((item, i) => validateOne(item, strict, `/${i}`)) : validateOne(obj, strict, '');
  return { ok: errors.length === 0, errors: [...new Set(errors)] };
}
