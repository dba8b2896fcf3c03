import { dataFileDigest } from '../../../config/paths.js';
import type { Analyzer, AnalysisOutput, AnalyzedFile, DetectedFinding, FileHeader } from '../../analyzer.js';
import { candidateKinds, hasKind, Kind, looksLikeText, latin1Text } from '../candidates.js';
import { secretFingerprint } from '../evidence.js';
import { lineNumberAt, scanSecrets, type SecretMatch } from './engine.js';
import { secretRules, type SecretRuleSet } from './rules.js';
import { MAX_SECRETS_PER_TEXT } from '../../limits.js';

/** Credentials in files are MITRE ATT&CK "Unsecured Credentials: Credentials In Files". */
export const SECRET_ATTACK = ['T1552.001'];

const WANTED_KINDS = Kind.SecretFile | Kind.Config | Kind.Script | Kind.History | Kind.Persistence | Kind.Web;
const PKCS12 = /\.(p12|pfx)$/i;

/**
 * Whether `path` is test data of a dependency (`node_modules/x/test/key.pem`, `site-packages/y/tests/…`): packages
 * ship throwaway keys for their tests, and those are not the image's secrets. An application's own files are never
 * skipped (`app/test/…` outside a dependency tree is scanned).
 */
export function isDependencyTestData(path: string, set: SecretRuleSet = secretRules()): boolean {
  const segments = path.split('/');
  for (const dep of set.dependencyDirs) {
    for (let i = 0; i + dep.length < segments.length; i++) {
      if (!dep.every((d, j) => (typeof d === 'string' ? segments[i + j] === d : d.test(segments[i + j]!)))) continue;
      // Directories below the dependency root, not the file name itself.
      for (let k = i + dep.length; k < segments.length - 1; k++) {
        if (set.fixtureDirs.has(segments[k]!.toLowerCase())) return true;
      }
    }
  }
  return false;
}

export function secretFinding(match: SecretMatch, line: number): DetectedFinding {
  const { rule } = match;
  return {
    category: 'secret',
    severity: rule.severity,
    title: match.label ? `${rule.title} (${match.label})` : rule.title,
    rule: `secret/${rule.id}`,
    attack: SECRET_ATTACK,
    evidence: { type: rule.type, line, fingerprint: match.fingerprint, ...(match.label ? { keyType: match.label } : {}) },
  };
}

/**
 * The `secret` detector: private keys, cloud and forge tokens, registry credentials and passwords in credential files,
 * by the patterns of `rules/secrets.yaml`. A finding names the secret's type, line and fingerprint, never the secret.
 */
export const secretsAnalyzer: Analyzer = {
  name: 'secrets',
  scansPayloads: true,
  version: 1,
  get configKey(): string {
    return dataFileDigest('secrets.yaml');
  },
  wants(path: string, header: FileHeader): boolean {
    if (!hasKind(candidateKinds(path, header), WANTED_KINDS)) return false;
    return !isDependencyTestData(path);
  },
  analyze(file: AnalyzedFile): AnalysisOutput {
    const kinds = candidateKinds(file.path, file);
    if (PKCS12.test(file.path)) {
      // A PKCS#12 bundle is binary: it is reported by name when it looks like DER (a SEQUENCE), weaker than a key seen.
      if (file.content.length < 32 || file.content[0] !== 0x30) return {};
      return {
        findings: [{
          category: 'secret',
          severity: 'moderate',
          title: 'PKCS#12 key store (may hold a private key)',
          rule: 'secret/pkcs12-file',
          attack: SECRET_ATTACK,
          evidence: { type: 'pkcs12', fingerprint: secretFingerprint(file.content) },
        }],
      };
    }
    if (!looksLikeText(file.content)) return {};
    const text = latin1Text(file.content);
    const matches = scanSecrets(text, { path: file.path, kinds });
    if (matches.length === 0) return {};
    const findings = matches.map((m) => secretFinding(m, lineNumberAt(text, m.offset)));
    if (matches.length >= MAX_SECRETS_PER_TEXT) {
      return { findings, notices: [{ level: 'warning', message: `more than ${MAX_SECRETS_PER_TEXT} secrets in this file; the first ${MAX_SECRETS_PER_TEXT} are reported` }] };
    }
    return { findings };
  },
};
