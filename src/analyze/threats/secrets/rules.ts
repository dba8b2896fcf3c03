import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../../model/index.js';
import { Kind } from '../candidates.js';
import { compileDataRegex, DataFileError, loadDataFile, parseDataFile, type LoadedDataFile } from '../../../config/data-file.js';

export const SECRET_RULES_FILE = 'secrets.yaml';

const VALIDATORS = ['github-checksum', 'basic-auth-base64', 'not-path'] as const;
export type SecretValidator = (typeof VALIDATORS)[number];

const KIND_NAMES = ['SecretFile', 'Config', 'Script', 'History', 'Persistence', 'Web'] as const;

const ruleSchema = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'rule ids are kebab-case'),
  title: z.string().min(1),
  type: z.string().min(1),
  severity: z.enum(SEVERITIES),
  keywords: z.array(z.string().min(1)).min(1),
  regex: z.string().min(1),
  secretGroup: z.number().int().min(0).optional(),
  labelGroup: z.number().int().min(1).optional(),
  ignoreCase: z.boolean().optional(),
  multiline: z.boolean().optional(),
  entropy: z.number().min(0).max(8).optional(),
  validate: z.enum(VALIDATORS).optional(),
  normalize: z.enum(['pem']).optional(),
  near: z.object({ regex: z.string().min(1), window: z.number().int().min(1).max(65536), secret: z.boolean().optional() }).strict().optional(),
  requires: z.string().min(1).optional(),
  kinds: z.array(z.enum(KIND_NAMES)).min(1).optional(),
  paths: z.string().min(1).optional(),
  skipPaths: z.string().min(1).optional(),
}).strict();

const fileSchema = z.object({
  version: z.literal(1),
  placeholders: z.array(z.string().min(1)),
  dependencyDirs: z.array(z.string().min(1)),
  fixtureDirs: z.array(z.string().min(1)),
  secretVariableNames: z.array(z.string().min(1)),
  secretVariableMinLength: z.number().int().min(1),
  rules: z.array(ruleSchema).min(1),
}).strict();

export interface SecretRule {
  id: string;
  title: string;
  type: string;
  severity: Severity;
  /** Lower-case prefilter strings: the regex runs only when one occurs in the lower-cased text. */
  keywords: string[];
  regex: RegExp;
  secretGroup: number;
  labelGroup?: number;
  entropy?: number;
  validate?: SecretValidator;
  normalize?: 'pem';
  near?: { regex: RegExp; window: number; secret: boolean };
  requires?: RegExp;
  /** Bit set of `Kind`; 0 for "any". */
  kinds: number;
  paths?: RegExp;
  skipPaths?: RegExp;
}

export interface SecretRuleSet {
  rules: SecretRule[];
  placeholders: string[];
  /** Each a path of directory names; a name with `*` is a pattern (`python3*`). */
  dependencyDirs: (string | RegExp)[][];
  fixtureDirs: Set<string>;
  secretVariableNames: RegExp[];
  secretVariableMinLength: number;
  digest: string;
}

function groupCount(re: RegExp): number {
  // A regex that matches the empty string at the end tells how many groups it has.
  return (new RegExp(`${re.source}|`, re.flags.replace(/[gy]/g, '')).exec('')?.length ?? 1) - 1;
}

export function compileSecretRules(loaded: LoadedDataFile<z.infer<typeof fileSchema>>): SecretRuleSet {
  const { data, file, lineOf } = loaded;
  const seen = new Set<string>();
  const rules = data.rules.map((raw, i): SecretRule => {
    const where = (key: string) => `${file}:${lineOf(['rules', i, key]) ?? '?'} (rule ${raw.id})`;
    if (seen.has(raw.id)) throw new DataFileError(`${where('id')}: duplicate rule id`);
    seen.add(raw.id);
    const flags = `gd${raw.ignoreCase ? 'i' : ''}${raw.multiline ? 'm' : ''}`;
    const regex = compileDataRegex(raw.regex, flags, where('regex'));
    const groups = groupCount(regex);
    const secretGroup = raw.secretGroup ?? (groups > 0 ? 1 : 0);
    if (secretGroup > groups) throw new DataFileError(`${where('secretGroup')}: the regex has ${groups} group(s), no group ${secretGroup}`);
    if (raw.labelGroup !== undefined && raw.labelGroup > groups) {
      throw new DataFileError(`${where('labelGroup')}: the regex has ${groups} group(s), no group ${raw.labelGroup}`);
    }
    let kinds = 0;
    for (const k of raw.kinds ?? []) kinds |= Kind[k];
    return {
      id: raw.id,
      title: raw.title,
      type: raw.type,
      severity: raw.severity,
      keywords: raw.keywords.map((k) => k.toLowerCase()),
      regex,
      secretGroup,
      ...(raw.labelGroup !== undefined ? { labelGroup: raw.labelGroup } : {}),
      ...(raw.entropy !== undefined ? { entropy: raw.entropy } : {}),
      ...(raw.validate ? { validate: raw.validate } : {}),
      ...(raw.normalize ? { normalize: raw.normalize } : {}),
      ...(raw.near
        ? { near: { regex: compileDataRegex(raw.near.regex, 'g', where('near')), window: raw.near.window, secret: raw.near.secret ?? false } }
        : {}),
      ...(raw.requires ? { requires: compileDataRegex(raw.requires, raw.ignoreCase ? 'i' : '', where('requires')) } : {}),
      kinds,
      ...(raw.paths ? { paths: compileDataRegex(raw.paths, '', where('paths')) } : {}),
      ...(raw.skipPaths ? { skipPaths: compileDataRegex(raw.skipPaths, '', where('skipPaths')) } : {}),
    };
  });
  return {
    rules,
    placeholders: data.placeholders.map((p) => p.toLowerCase()),
    dependencyDirs: data.dependencyDirs.map((d) => d.split('/').map((segment) =>
      segment.includes('*') ? new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`) : segment)),
    fixtureDirs: new Set(data.fixtureDirs.map((d) => d.toLowerCase())),
    secretVariableNames: data.secretVariableNames.map((s, i) =>
      compileDataRegex(s, 'i', `${file}:${lineOf(['secretVariableNames', i]) ?? '?'}`)),
    secretVariableMinLength: data.secretVariableMinLength,
    digest: loaded.digest,
  };
}

/** Compiles a secrets rule file given as text (tests, and users' rule files later). */
export function parseSecretRules(file: string, text: string): SecretRuleSet {
  return compileSecretRules(parseDataFile(file, text, fileSchema));
}

let cached: SecretRuleSet | undefined;

/** The shipped `rules/secrets.yaml`, loaded and compiled once per process. */
export function secretRules(): SecretRuleSet {
  cached ??= compileSecretRules(loadDataFile(SECRET_RULES_FILE, fileSchema));
  return cached;
}
