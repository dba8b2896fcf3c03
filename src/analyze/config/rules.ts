import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../model/index.js';
import { loadDataFile } from '../../config/data-file.js';

export const CONFIG_RULES_FILE = 'config.yaml';

const fileSchema = z.object({
  version: z.literal(1),
  sensitivePorts: z.array(z.object({
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
    service: z.string().min(1),
    severity: z.enum(SEVERITIES),
  }).strict()).min(1),
  setuidShells: z.array(z.string().min(1)).min(1),
  standardSetuidPrograms: z.array(z.string().min(1)),
}).strict();

export interface SensitivePort {
  service: string;
  severity: Severity;
}

export interface ConfigRules {
  /** `port/protocol` → the service usually behind it. */
  sensitivePorts: Map<string, SensitivePort>;
  isSetuidShell(name: string): boolean;
  isStandardSetuidProgram(name: string): boolean;
  digest: string;
}

/** A name matcher for a list of names where `*` stands for any characters. */
function nameMatcher(names: readonly string[]): (name: string) => boolean {
  const exact = new Set(names.filter((n) => !n.includes('*')));
  const patterns = names.filter((n) => n.includes('*'))
    .map((n) => new RegExp(`^${n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
  return (name) => exact.has(name) || patterns.some((p) => p.test(name));
}

let cached: ConfigRules | undefined;

/** The shipped `rules/config.yaml`, loaded once per process. */
export function configRules(): ConfigRules {
  if (cached) return cached;
  const { data, digest } = loadDataFile(CONFIG_RULES_FILE, fileSchema);
  const sensitivePorts = new Map<string, SensitivePort>();
  for (const p of data.sensitivePorts) sensitivePorts.set(`${p.port}/${p.protocol ?? 'tcp'}`, { service: p.service, severity: p.severity });
  cached = {
    sensitivePorts,
    isSetuidShell: nameMatcher(data.setuidShells),
    isStandardSetuidProgram: nameMatcher(data.standardSetuidPrograms),
    digest,
  };
  return cached;
}
