import type { Finding } from '../../model/index.js';
import type { HistoryStep, ImageCheck } from '../image-check.js';
import { printable } from '../threats/evidence.js';
import { redactSecrets } from '../threats/secrets/engine.js';
import { MAX_BUILD_COMMAND_CHARS, MAX_EXCERPT_CHARS } from '../limits.js';

/**
 * A shell or interpreter reading its program from the pipe: not `sh -c '…'`, `python3 -c '…'`, `perl -ne '…'`,
 * `node -e …`, where the download is only data (`curl api | python3 -c 'import json…'`).
 */
const SHELL = String.raw`(?:/(?:usr/)?(?:local/)?bin/)?(?:(?:sh|bash|dash|zsh|ksh|ash)\b(?![ \t]+-c\b)|(?:python[0-9.]*|perl|ruby|node|php)\b(?![ \t]+-[A-Za-z]*[cemnprE]))`;
/** `curl … | sh`, `wget -qO- … | sudo -E bash -s --`, one pipeline (no `;`, `&&`, `||` between download and shell). */
const PIPE_TO_SHELL = new RegExp(
  String.raw`\b(?:curl|wget|fetch)\b(?:[^|;&\n]|&(?!&)){0,2000}\|[ \t]{0,8}(?:sudo[ \t]+(?:-[A-Za-z]+[ \t]+){0,3})?(?:env[ \t]+)?${SHELL}`,
);
/** `bash <(curl …)`, `sh -c "$(curl …)"`, `source <(wget …)`, `eval "$(curl …)"`. */
const SUBSTITUTION = new RegExp(
  String.raw`(?:\b(?:ba|z|k|da)?sh[ \t]+(?:-c[ \t]+)?|\b(?:source|eval)[ \t]+|(?:^|[;&|][ \t]*)\.[ \t]+)["']?(?:<\(|\$\()[ \t]*(?:curl|wget)\b`,
);
/** `ADD https://…` (BuildKit: `ADD https://x /y # buildkit`; classic builder: `#(nop) ADD https://x in /y`). */
const ADD_URL = /(?:^|\s)ADD\s+((?:--[a-z-]+(?:=\S*)?\s+){0,6})(https?:\/\/[^\s"']{1,2000})/;
const URL = /https?:\/\/[^\s"'|;)]{1,2000}/;

function excerpt(command: string, start: number, end: number): string {
  const from = Math.max(0, start - 40);
  const to = Math.min(command.length, Math.max(end + 40, from + MAX_EXCERPT_CHARS));
  const text = `${from > 0 ? '…' : ''}${command.slice(from, to)}${to < command.length ? '…' : ''}`;
  return printable(redactSecrets(text), MAX_EXCERPT_CHARS + 2);
}

/** A URL shown to a person: credentials and secrets masked, length bounded. */
function shownUrl(url: string): string {
  return printable(redactSecrets(url.replace(/[.,'"`]+$/, '')), 160);
}

function findingFor(step: HistoryStep): Finding | undefined {
  const command = step.createdBy.length > MAX_BUILD_COMMAND_CHARS ? step.createdBy.slice(0, MAX_BUILD_COMMAND_CHARS) : step.createdBy;
  const where = step.layer !== null ? { layer: step.layer } : {};
  const add = ADD_URL.exec(command);
  // `ADD --checksum=sha256:…` is verified by the builder: a pinned download, not a blind one.
  if (add && !/--checksum=/.test(add[1] ?? '')) {
    const url = shownUrl(add[2]!);
    return {
      category: 'misconfiguration',
      severity: 'moderate',
      title: `Build step adds a remote file without a checksum: ${url}`,
      source: 'static',
      rule: 'misconfiguration/add-remote-url',
      ...where,
      attack: ['T1105'],
      evidence: { step: step.step, layer: step.layer, url, command: excerpt(command, add.index, add.index + add[0].length) },
    };
  }
  const match = PIPE_TO_SHELL.exec(command) ?? SUBSTITUTION.exec(command);
  if (!match) return undefined;
  const rest = command.slice(match.index);
  const urlMatch = URL.exec(rest);
  const url = urlMatch ? shownUrl(urlMatch[0]) : undefined;
  return {
    category: 'misconfiguration',
    severity: 'moderate',
    title: url ? `Build step runs a downloaded script in a shell: ${url}` : 'Build step runs a downloaded script in a shell',
    source: 'static',
    rule: 'misconfiguration/curl-pipe-shell',
    ...where,
    attack: ['T1105'],
    evidence: { step: step.step, layer: step.layer, ...(url ? { url } : {}), command: excerpt(command, match.index, match.index + match[0].length) },
  };
}

/**
 * `misconfiguration/curl-pipe-shell` and `misconfiguration/add-remote-url`: build steps that ran code fetched over the
 * network unverified (`curl … | sh`, `bash <(curl …)`, `ADD https://…`). What ran is not in the image to inspect.
 */
export const curlPipeShellCheck: ImageCheck = {
  name: 'curl-pipe-shell',
  version: 1,
  check(facts) {
    const findings: Finding[] = [];
    for (const step of facts.history) {
      const f = findingFor(step);
      if (f) findings.push(f);
    }
    return { findings };
  },
};
