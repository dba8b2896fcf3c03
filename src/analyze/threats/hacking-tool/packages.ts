import { dataFileDigest } from '../../../config/paths.js';
import { z } from 'zod';
import { PACKAGE_TYPES, SEVERITIES, type Finding, type Package, type Severity } from '../../../model/index.js';
import type { ImageCheck } from '../../image-check.js';
import { DataFileError, loadDataFile, parseDataFile, type LoadedDataFile } from '../../../config/data-file.js';
import { printable } from '../evidence.js';

export const HACKING_TOOL_PACKAGES_FILE = 'hacking-tool-packages.yaml';

const fileSchema = z.object({
  version: z.literal(1),
  roles: z.record(z.string(), z.object({
    severity: z.enum(SEVERITIES),
    attack: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1046')),
  }).strict()),
  tools: z.array(z.object({
    tool: z.string().min(1),
    role: z.string().min(1),
    packages: z.partialRecord(z.enum(PACKAGE_TYPES), z.array(z.string().min(1)).min(1)),
  }).strict()).min(1),
}).strict();

interface KnownTool {
  tool: string;
  role: string;
  severity: Severity;
  attack: string[];
}

export interface HackingToolPackageIndex {
  /** `type\0normalised name` → the tool. */
  byPackage: Map<string, KnownTool>;
  digest: string;
}

/** Names as the ecosystem compares them: PyPI folds case and `-_.`; Go drops the major-version suffix. */
export function normalisePackageName(type: string, name: string): string {
  if (type === 'pypi') return name.toLowerCase().replace(/[-_.]+/g, '-');
  if (type === 'golang') return name.replace(/\/v\d+$/, '');
  if (type === 'deb' || type === 'apk' || type === 'rpm' || type === 'gem' || type === 'cargo') return name.toLowerCase();
  return name;
}

function indexTools(loaded: LoadedDataFile<z.infer<typeof fileSchema>>): HackingToolPackageIndex {
  const { data, digest, file, lineOf } = loaded;
  const byPackage = new Map<string, KnownTool>();
  data.tools.forEach((t, i) => {
    const role = data.roles[t.role];
    if (!role) throw new DataFileError(`${file}:${lineOf(['tools', i, 'role']) ?? '?'}: tool ${t.tool} has an unknown role ${t.role}`);
    for (const [type, names] of Object.entries(t.packages)) {
      for (const name of names ?? []) {
        byPackage.set(`${type}\u0000${normalisePackageName(type, name)}`, { tool: t.tool, role: t.role, severity: role.severity, attack: role.attack });
      }
    }
  });
  return { byPackage, digest };
}

/** Indexes a hacking-tool package list given as text (tests). */
export function parseHackingToolPackages(file: string, text: string): HackingToolPackageIndex {
  return indexTools(parseDataFile(file, text, fileSchema));
}

let cached: HackingToolPackageIndex | undefined;

/** The shipped `rules/hacking-tool-packages.yaml`, indexed once per process. */
export function hackingToolPackageIndex(): HackingToolPackageIndex {
  cached ??= indexTools(loadDataFile(HACKING_TOOL_PACKAGES_FILE, fileSchema));
  return cached;
}

function knownTool(pkg: Package, index: HackingToolPackageIndex): KnownTool | undefined {
  // A Go module is the tool only when it is the binary's main module, not a library some other program uses.
  if (pkg.type === 'golang' && pkg.metadata?.mainModule !== true) return undefined;
  return index.byPackage.get(`${pkg.type}\u0000${normalisePackageName(pkg.type, pkg.name)}`);
}

/**
 * `hacking-tool/package`: installed packages that are attack tools (scanners, brute-forcers, exploitation and C2
 * frameworks, credential dumpers, tunnels), by name per ecosystem from `rules/hacking-tool-packages.yaml`.
 * Dual-use relays (socat, netcat, ncat) are low severity.
 */
export const hackingToolPackages: ImageCheck = {
  name: 'hacking-tool-packages',
  version: 1,
  get configKey(): string {
    return dataFileDigest('hacking-tool-packages.yaml');
  },
  check(facts) {
    const index = hackingToolPackageIndex();
    const findings: Finding[] = [];
    for (const pkg of facts.packages) {
      const tool = knownTool(pkg, index);
      if (!tool) continue;
      const name = printable(pkg.name, 128);
      const version = printable(pkg.version, 64);
      findings.push({
        category: 'hacking-tool',
        severity: tool.severity,
        title: `${tool.tool} installed (${pkg.type} package ${name} ${version})`,
        source: 'static',
        rule: 'hacking-tool/package',
        ...(pkg.paths[0] !== undefined ? { path: pkg.paths[0] } : {}),
        layer: pkg.layer,
        attack: tool.attack,
        evidence: { tool: tool.tool, role: tool.role, package: name, version, type: pkg.type, purl: printable(pkg.purl, 256) },
      });
    }
    return { findings };
  },
};
