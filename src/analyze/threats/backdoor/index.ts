import { dataFileDigest } from '../../../config/paths.js';
import type { Analyzer, AnalysisOutput, AnalyzedFile, DetectedFinding } from '../../analyzer.js';
import type { Severity } from '../../../model/index.js';
import { candidateKinds, hasKind, Kind, looksLikeText, latin1Text } from '../candidates.js';
import { lineAt, printable } from '../evidence.js';
import { placeOf, runsByItself, type TextPlace } from '../cryptominer/where.js';
import { parseAuthorizedKeys, parsePreload } from './authorized-keys.js';
import { backdoorPatterns, matchPatterns, type PatternSet } from './patterns.js';
import { findWebshell, webLanguageOf } from './webshell.js';
import { MAX_AUTHORIZED_KEYS_IN_EVIDENCE, MAX_BACKDOOR_FINDINGS_PER_FILE, MAX_TEXT_CANDIDATE_BYTES } from '../../limits.js';

const WANTED_KINDS = Kind.Script | Kind.Web | Kind.Persistence | Kind.History | Kind.AuthorizedKeys | Kind.Config;

/** ATT&CK techniques a place adds: a reverse shell in a crontab is also scheduled-task persistence. */
const PLACE_TECHNIQUES: Partial<Record<TextPlace, string>> = {
  crontab: 'T1053.003',
  'systemd-unit': 'T1543.002',
  'init-script': 'T1037.004',
  'shell-startup': 'T1546.004',
};

function withPlace(attack: readonly string[], place: TextPlace): string[] {
  const extra = PLACE_TECHNIQUES[place];
  return extra && !attack.includes(extra) ? [...attack, extra] : [...attack];
}

export function scanBackdoorText(file: AnalyzedFile, text: string, kinds: number, patterns: PatternSet): DetectedFinding[] {
  const findings: DetectedFinding[] = [];
  const place = placeOf(file.path);

  if (file.path === 'etc/ld.so.preload') {
    const libraries = parsePreload(text);
    if (libraries.length > 0) {
      findings.push({
        category: 'backdoor',
        severity: 'high',
        rule: 'backdoor/ld-so-preload',
        title: `/etc/ld.so.preload loads ${printable(libraries[0]!, 120)}${libraries.length > 1 ? ` and ${libraries.length - 1} more` : ''} into every program`,
        attack: ['T1574.006'],
        evidence: { libraries: libraries.map((l) => printable(l, 200)) },
      });
    }
  }

  if (hasKind(kinds, Kind.AuthorizedKeys)) {
    const keys = parseAuthorizedKeys(text);
    if (keys.length > 0) {
      findings.push({
        category: 'backdoor',
        severity: 'high',
        rule: 'backdoor/authorized-keys',
        title: `SSH authorized_keys planted in the image (${keys.length} key${keys.length === 1 ? '' : 's'})`,
        attack: ['T1098.004'],
        evidence: {
          count: keys.length,
          keys: keys.slice(0, MAX_AUTHORIZED_KEYS_IN_EVIDENCE).map((k) => ({
            type: k.type,
            fingerprint: k.fingerprint,
            ...(k.comment ? { comment: printable(k.comment, 120) } : {}),
            ...(k.restricted ? { restricted: true } : {}),
            line: k.line,
          })),
        },
      });
    }
  }

  for (const hit of matchPatterns(text, patterns, hasKind(kinds, Kind.Persistence))) {
    if (findings.length >= MAX_BACKDOOR_FINDINGS_PER_FILE) break;
    const reverseShell = hit.pattern.rule.startsWith('backdoor/reverse-shell-');
    const severity: Severity = reverseShell && runsByItself(place) ? 'critical' : 'high';
    const endpoint = hit.host ? ` to ${printable(hit.port ? `${hit.host}:${hit.port}` : hit.host, 120)}` : '';
    findings.push({
      category: 'backdoor',
      severity,
      rule: hit.pattern.rule,
      title: `${hit.pattern.title}${endpoint} in ${place}`,
      attack: withPlace(hit.pattern.attack, place),
      evidence: {
        where: place,
        ...(hit.host ? { host: printable(hit.host, 120) } : {}),
        ...(hit.port ? { port: hit.port } : {}),
        ...(hit.url ? { url: printable(hit.url, 200) } : {}),
        ...lineAt(file.content, hit.offset),
      },
    });
  }

  const language = hasKind(kinds, Kind.Web) ? webLanguageOf(file.path) : undefined;
  if (language) {
    const hits = findWebshell(text, language);
    if (hits.length > 0 && findings.length < MAX_BACKDOOR_FINDINGS_PER_FILE) {
      const first = hits[0]!;
      findings.push({
        category: 'backdoor',
        severity: 'critical',
        rule: 'backdoor/webshell',
        title: `Webshell: ${first.language.toUpperCase()} page passes request input to ${first.sink}`,
        attack: ['T1505.003'],
        evidence: {
          language: first.language,
          sinks: [...new Set(hits.map((h) => h.sink))],
          ...lineAt(file.content, first.offset),
          matches: hits.map((h) => ({ offset: h.offset, text: lineAt(file.content, h.offset).excerpt, identifier: h.sink })),
        },
      });
    }
  }
  return findings;
}

/**
 * Backdoors in text: reverse shells (scripts, crontabs, entrypoints, history), webshells, planted
 * `authorized_keys`, `/etc/ld.so.preload`, and persistence that downloads and runs code.
 */
export const backdoorAnalyzer: Analyzer = {
  name: 'backdoor',
  scansPayloads: true,
  version: 1,
  get configKey(): string {
    return `patterns:${dataFileDigest('backdoor-patterns.yaml')}`;
  },
  wants(path, header) {
    if (header.size > MAX_TEXT_CANDIDATE_BYTES) return false;
    const kinds = candidateKinds(path, header);
    return hasKind(kinds, WANTED_KINDS) || hasKind(kinds, Kind.Executable);
  },
  analyze(file: AnalyzedFile): AnalysisOutput {
    if (!looksLikeText(file.content)) return {};
    const kinds = candidateKinds(file.path, file);
    const text = latin1Text(file.content);
    try {
      const findings = scanBackdoorText(file, text, kinds, backdoorPatterns());
      return findings.length > 0 ? { findings } : {};
    } catch (err) {
      return { notices: [{ level: 'warning', message: `backdoor scan failed: ${err instanceof Error ? err.message : String(err)}` }] };
    }
  },
};
