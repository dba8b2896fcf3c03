import type { AnalysisOutput, AnalyzedFile, Analyzer, DetectedFinding, FileHeader } from '../../analyzer.js';
import { FINDING_CATEGORIES, SEVERITIES as SEVERITY_NAMES, type FindingCategory, type ScanNotice, type Severity } from '../../../model/index.js';
import { candidateKinds, hasKind, Kind } from '../candidates.js';
import { printable, type MatchEvidence } from '../evidence.js';
import { listZip, looksLikeZip, newZipBudget, readZipEntry, ZipFormatError } from '../../../util/zip.js';
import type { CompiledRules, ScanVariables, YaraMatch } from './engine.js';
import { MAX_MATCHES_PER_FINDING, MAX_YARA_ZIP_BYTES, MAX_YARA_ZIP_MEMBERS, YARA_ZIP_LIMITS } from '../../limits.js';

export type { CompiledRules, ScanVariables, YaraMatch, SkippedRule } from './engine.js';
export { loadRules, describeSkippedRules, bundledYaraDir, type LoadRulesOptions } from './loader.js';

/** The kinds of file YARA rules are run on. */
const WANTED_KINDS = Kind.Executable | Kind.WindowsProgram | Kind.Script | Kind.Web | Kind.Persistence | Kind.Config;

const ZIP_NAME = /\.zip$/i;

const CATEGORIES: ReadonlySet<string> = new Set<string>(FINDING_CATEGORIES);
const SEVERITIES: ReadonlySet<string> = new Set<string>(SEVERITY_NAMES);

/** Words in a rule's tags (then its name) that say what it finds, for rules without a `category` meta. */
const CATEGORY_HINTS: [RegExp, FindingCategory][] = [
  [/miner|xmrig|monero|cryptonight|coinhive|stratum/, 'cryptominer'],
  [/webshell|web_shell|backdoor|rootkit|implant|reverse_?shell|(^|_)rat($|_)|bind_?shell/, 'backdoor'],
  [/hacktool|hack_tool|hacking|mimikatz|exploit|pentest|scanner|bruteforce|cobalt_?strike|metasploit/, 'hacking-tool'],
  [/malware|trojan|ransom|botnet|mirai|worm|virus|stealer|dropper|loader|ddos/, 'malware'],
];

const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

function inferCategory(match: YaraMatch): FindingCategory {
  const declared = match.meta.category;
  if (typeof declared === 'string' && CATEGORIES.has(declared)) return declared as FindingCategory;
  for (const text of [match.tags.join(' ').toLowerCase(), match.rule.toLowerCase()]) {
    for (const [pattern, category] of CATEGORY_HINTS) if (pattern.test(text)) return category;
  }
  return 'suspicious';
}

function metaText(match: YaraMatch, key: string): string | undefined {
  const value = match.meta[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A finding for one rule match, with meta from the rule and evidence from the file. */
export function findingFromMatch(match: YaraMatch, engine: CompiledRules['engine'], path?: string): DetectedFinding {
  const severityMeta = metaText(match, 'severity')?.toLowerCase();
  const severity: Severity = severityMeta !== undefined && SEVERITIES.has(severityMeta) ? (severityMeta as Severity) : 'moderate';
  const attack = (metaText(match, 'attack') ?? '')
    .split(/[\s,]+/)
    .map((id) => id.toUpperCase())
    .filter((id) => ATTACK_ID.test(id));
  const title = printable(metaText(match, 'title') ?? metaText(match, 'description') ?? match.rule);
  const matches: MatchEvidence[] = match.strings
    .slice(0, MAX_MATCHES_PER_FINDING)
    .map((s) => ({ offset: s.offset, text: printable(s.data), identifier: s.identifier }));
  const family = metaText(match, 'family') ?? metaText(match, 'malware_family');
  return {
    category: inferCategory(match),
    severity,
    title,
    rule: `yara/${match.rule}`,
    ...(path !== undefined ? { path } : {}),
    ...(attack.length > 0 ? { attack } : {}),
    evidence: {
      engine,
      namespace: match.namespace,
      tags: match.tags,
      ...(family !== undefined ? { family: printable(family) } : {}),
      matches,
    },
  };
}

/** ELF, PE, MACHO, SCRIPT (`#!`), TEXT (no NUL in the first 8 KiB) or DATA. */
export function fileTypeOf(content: Buffer): string {
  if (content.length >= 4 && content.readUInt32BE(0) === 0x7f454c46) return 'ELF';
  if (content.length >= 2 && content[0] === 0x4d && content[1] === 0x5a) return 'PE';
  if (content.length >= 4) {
    const magic = content.readUInt32BE(0);
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) return 'MACHO';
  }
  if (content.length >= 2 && content[0] === 0x23 && content[1] === 0x21) return 'SCRIPT';
  const end = Math.min(content.length, 8192);
  for (let i = 0; i < end; i++) if (content[i] === 0) return 'DATA';
  return content.length === 0 ? 'DATA' : 'TEXT';
}

/** The LOKI-style external variables for a file at `path` (no leading slash) in the image. */
export function scanVariables(path: string, content: Buffer, uid?: number): ScanVariables {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return {
    filename: name,
    filepath: `/${path.replace(/^\/+/, '')}`,
    extension: dot > 0 ? name.slice(dot).toLowerCase() : '',
    filetype: fileTypeOf(content),
    owner: uid === undefined ? '' : uid === 0 ? 'root' : String(uid),
  };
}

function isSmallZip(path: string, header: Pick<FileHeader, 'type' | 'size'>): boolean {
  return header.type === 'file' && header.size > 0 && header.size <= MAX_YARA_ZIP_BYTES && ZIP_NAME.test(path);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs the compiled YARA rules over executables, scripts, web pages, persistence and config files (and small ZIPs). */
export function createYaraAnalyzer(rules: CompiledRules): Analyzer {
  const scanOne = async (content: Buffer, path: string, uid: number | undefined, findingPath?: string): Promise<AnalysisOutput> => {
    try {
      const matches = await rules.scan(content, scanVariables(path, content, uid));
      return { findings: matches.map((m) => findingFromMatch(m, rules.engine, findingPath)) };
    } catch (err) {
      return { notices: [{ level: 'warning', message: `YARA scan failed: ${errorText(err)}`, ...(findingPath !== undefined ? { path: findingPath } : {}) }] };
    }
  };

  return {
    name: 'yara',
    scansPayloads: true,
    version: 1,
    configKey: rules.digest,
    wants: (path, header) => hasKind(candidateKinds(path, header), WANTED_KINDS) || isSmallZip(path, header),
    async analyze(file: AnalyzedFile): Promise<AnalysisOutput> {
      if (!isSmallZip(file.path, file) || !looksLikeZip(file.content)) {
        if (!hasKind(candidateKinds(file.path, file), WANTED_KINDS) && ZIP_NAME.test(file.path)) return {};
        return scanOne(file.content, file.path, file.uid);
      }
      const findings: DetectedFinding[] = [];
      const notices: Omit<ScanNotice, 'layer'>[] = [];
      const whole = await scanOne(file.content, file.path, file.uid);
      findings.push(...(whole.findings ?? []));
      notices.push(...(whole.notices ?? []));
      try {
        const entries = listZip(file.content, YARA_ZIP_LIMITS).filter((e) => !e.isDirectory && !e.encrypted && e.uncompressedSize > 0);
        const budget = newZipBudget();
        const members = entries.slice(0, MAX_YARA_ZIP_MEMBERS);
        const results = await Promise.all(
          members.map(async (entry) => {
            const memberPath = `${file.path}!${entry.name}`;
            let content: Buffer;
            try {
              content = readZipEntry(file.content, entry, YARA_ZIP_LIMITS, budget);
            } catch (err) {
              if (err instanceof ZipFormatError) return { notices: [{ level: 'warning' as const, message: `ZIP member not scanned: ${err.message}`, path: printable(memberPath) }] };
              throw err;
            }
            return scanOne(content, `${file.path}/${entry.name}`, file.uid, printable(memberPath));
          }),
        );
        for (const r of results) {
          findings.push(...(r.findings ?? []));
          notices.push(...(r.notices ?? []));
        }
        if (entries.length > MAX_YARA_ZIP_MEMBERS) notices.push({ level: 'warning', message: `only the first ${MAX_YARA_ZIP_MEMBERS} of ${entries.length} ZIP members were YARA-scanned` });
      } catch (err) {
        if (!(err instanceof ZipFormatError)) notices.push({ level: 'warning', message: `YARA scan of ZIP members failed: ${errorText(err)}` });
      }
      return { findings, ...(notices.length > 0 ? { notices } : {}) };
    },
  };
}
