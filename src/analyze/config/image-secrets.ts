import { dataFileDigest } from '../../config/paths.js';
import type { Finding } from '../../model/index.js';
import type { HistoryStep, ImageCheck } from '../image-check.js';
import { printable, secretFingerprint } from '../threats/evidence.js';
import { isPlaceholderSecret, scanSecrets } from '../threats/secrets/engine.js';
import { SECRET_ATTACK } from '../threats/secrets/index.js';
import { secretRules } from '../threats/secrets/rules.js';
import { looksLikeReference } from '../threats/secrets/validate.js';
import { MAX_CONFIG_TEXT_CHARS } from '../limits.js';

const URL_PASSWORD = /[a-z][a-z0-9+.-]{0,15}:\/\/[^:/@\s]{1,256}:([^@\s/]{1,512})@[A-Za-z0-9.-]{1,253}/gi;

interface Where {
  /** `env` or `history`: the rule id prefix and the wording. */
  source: 'env' | 'history';
  step?: HistoryStep;
}

function baseFinding(where: Where, rule: string, severity: Finding['severity'], title: string, evidence: Record<string, unknown>): Finding {
  const step = where.step;
  return {
    category: 'secret',
    severity,
    title,
    source: 'static',
    rule: `secret/${where.source}-${rule}`,
    ...(step && step.layer !== null ? { layer: step.layer } : {}),
    attack: SECRET_ATTACK,
    evidence: { ...(step ? { step: step.step } : {}), ...evidence },
  };
}

function placeText(where: Where, variable?: string): string {
  const name = variable ? ` ${printable(variable, 64)}` : '';
  if (where.source === 'env') return `in image ENV${name}`;
  return variable ? `in build variable${name} (history step ${where.step?.step})` : `in build history step ${where.step?.step}`;
}

/** Whether a variable's value is a credential by its name alone (`*_TOKEN=…`, `*_PASSWORD=…`). */
function isSecretVariable(name: string, value: string): boolean {
  const set = secretRules();
  if (!set.secretVariableNames.some((re) => re.test(name))) return false;
  if (value.length < set.secretVariableMinLength) return false;
  if (isPlaceholderSecret(value, set) || looksLikeReference(value)) return false;
  return !/^(true|false|yes|no|none|null|undefined|disabled?|enabled?)$/i.test(value);
}

/** Collects findings, each secret (by fingerprint) once across ENV and history. */
class Collector {
  readonly findings: Finding[] = [];
  private readonly seen = new Set<string>();

  /** Secrets the pattern rules find in `text`, with `variable` naming where the text came from. */
  patterns(text: string, where: Where, variable?: string): void {
    const cut = text.length > MAX_CONFIG_TEXT_CHARS ? text.slice(0, MAX_CONFIG_TEXT_CHARS) : text;
    for (const m of scanSecrets(cut, { kinds: 0 })) {
      if (!this.once(m.fingerprint)) continue;
      this.findings.push(baseFinding(where, m.rule.id, m.rule.severity, `${m.rule.title} ${placeText(where, variable)}`, {
        ...(variable ? { variable: printable(variable, 64) } : {}),
        type: m.rule.type,
        fingerprint: m.fingerprint,
      }));
    }
    URL_PASSWORD.lastIndex = 0;
    for (let u = URL_PASSWORD.exec(cut); u !== null; u = URL_PASSWORD.exec(cut)) {
      const password = u[1]!;
      if (isPlaceholderSecret(password) || looksLikeReference(password)) continue;
      const fingerprint = secretFingerprint(password);
      if (!this.once(fingerprint)) continue;
      this.findings.push(baseFinding(where, 'url-password', 'moderate', `Password in a URL ${placeText(where, variable)}`, {
        ...(variable ? { variable: printable(variable, 64) } : {}),
        type: 'url-password',
        fingerprint,
      }));
    }
  }

  /** A `NAME=value` pair: patterns first, then the name rule. */
  variable(name: string, value: string, where: Where): void {
    const before = this.findings.length;
    this.patterns(value, where, name);
    if (this.findings.length > before || !isSecretVariable(name, value)) return;
    const fingerprint = secretFingerprint(value);
    if (!this.once(fingerprint)) return;
    this.findings.push(baseFinding(where, 'variable', 'moderate', `Credential ${placeText(where, name)}`, {
      variable: printable(name, 64),
      type: 'variable',
      fingerprint,
    }));
  }

  private once(fingerprint: string): boolean {
    if (this.seen.has(fingerprint)) return false;
    this.seen.add(fingerprint);
    return true;
  }
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2]! : value;
}

/** `NAME=value` pairs of a history line: BuildKit's `|N A=x B=y /bin/sh -c …` build args, and ENV/ARG steps. */
export function historyVariables(line: string): [string, string][] {
  const createdBy = line.length > MAX_CONFIG_TEXT_CHARS ? line.slice(0, MAX_CONFIG_TEXT_CHARS) : line;
  const pairs: [string, string][] = [];
  const buildArgs = /^\|(\d{1,3})\s+/.exec(createdBy);
  if (buildArgs) {
    const re = /([A-Za-z_][A-Za-z0-9_]{0,127})=(\S*)\s+/y;
    re.lastIndex = buildArgs[0].length;
    for (let i = 0; i < Number(buildArgs[1]); i++) {
      const m = re.exec(createdBy);
      if (!m) break;
      pairs.push([m[1]!, m[2]!]);
    }
  }
  const instruction = /(?:^|#\(nop\)\s+)(ENV|ARG)\s+(.{1,65536})$/s.exec(createdBy.replace(/\s+# buildkit\s*$/, ''));
  if (instruction) {
    const body = instruction[2]!.trim();
    const assignment = /([A-Za-z_][A-Za-z0-9_.-]{0,127})=("(?:[^"\\]|\\.){0,8192}"|'[^']{0,8192}'|\S{0,8192})/g;
    let any = false;
    for (let m = assignment.exec(body); m !== null; m = assignment.exec(body)) {
      pairs.push([m[1]!, unquote(m[2]!)]);
      any = true;
    }
    // Legacy `ENV NAME value with spaces`.
    const legacy = /^([A-Za-z_][A-Za-z0-9_.-]{0,127})\s+(.+)$/s.exec(body);
    if (!any && instruction[1] === 'ENV' && legacy) pairs.push([legacy[1]!, legacy[2]!.trim()]);
  }
  return pairs;
}

/**
 * `secret/env-*` and `secret/history-*`: credentials in the image's ENV and in its build history (build args
 * recorded by BuildKit, ENV/ARG steps, tokens in RUN commands), by the secret patterns and by variable names
 * (`*_TOKEN`, `*_PASSWORD`, `AWS_SECRET_ACCESS_KEY` …). Evidence names the variable and a fingerprint, never the value.
 */
export const imageSecretsCheck: ImageCheck = {
  name: 'image-secrets',
  version: 1,
  get configKey(): string {
    return dataFileDigest('secrets.yaml');
  },
  check(facts) {
    const collector = new Collector();
    for (const entry of facts.config.env) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      collector.variable(entry.slice(0, eq), entry.slice(eq + 1), { source: 'env' });
    }
    for (const step of facts.history) {
      const where: Where = { source: 'history', step };
      for (const [name, value] of historyVariables(step.createdBy)) collector.variable(name, value, where);
      collector.patterns(step.createdBy, where);
    }
    return { findings: collector.findings };
  },
};
