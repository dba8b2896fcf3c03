import type { DecodeStep } from '../../model/index.js';
import { latin1Text, shebangInterpreter } from '../threats/candidates.js';
import { charge, memberPath, sniff } from './content.js';
import type { Payload, UnpackBudget, UnpackInput, Unpacker } from './types.js';
import { MAX_HEREDOCS_PER_SCRIPT, MAX_PAYLOAD_BYTES, MAX_SELF_EXTRACTING_HEADER_BYTES } from '../limits.js';

/**
 * Shell scripts that carry their payload:
 * - self-extracting scripts (gzexe, makeself, and the hand-made `tail -n +N "$0" | gzip -d` kind): a script that
 *   reads itself (`$0`) followed by compressed data or a program; the payload is everything from its magic on, and
 *   the driver decompresses it and lists the archive in it;
 * - files a script writes from a heredoc (`cat > /etc/cron.d/x << 'EOF'`), shar archives (`sed 's/^X//' << 'SHAR_EOF'
 *   > file`, uuencoded members), and heredocs fed to `base64 -d`: each becomes a payload named by where it is written,
 *   so a crontab written by an entrypoint is read as a crontab.
 */

/** Magic numbers of what a self-extracting script appends: gzip, bzip2, xz, zstd, ELF. */
const APPENDED_MAGIC = [Buffer.from([0x1f, 0x8b, 0x08]), Buffer.from('BZh'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x7f, 0x45, 0x4c, 0x46])];

function formatOf(header: string): string {
  if (/\bskip=\d+[\s\S]{0,4000}gzip -cd/.test(header)) return 'gzexe';
  if (/Makeself|MS_Printf|makeself/.test(header)) return 'makeself';
  return 'appended';
}

function appendedPayload(input: UnpackInput, budget: UnpackBudget): Payload[] {
  const content = input.content;
  const firstLine = content.indexOf(0x0a);
  if (firstLine < 0) return [];
  const window = content.subarray(0, Math.min(content.length, MAX_SELF_EXTRACTING_HEADER_BYTES));
  let start = -1;
  for (const magic of APPENDED_MAGIC) {
    const at = window.indexOf(magic, firstLine);
    if (at >= 0 && (start < 0 || at < start)) start = at;
  }
  // The payload follows the script's text on a line of its own: the header before it is text that reads "$0".
  if (start < 0 || content[start - 1] !== 0x0a) return [];
  const header = content.subarray(0, start);
  if (header.includes(0)) return [];
  const headerText = header.toString('latin1');
  if (!headerText.includes('$0') && !headerText.includes('${0}')) return [];
  const payload = content.subarray(start);
  if (payload.length > MAX_PAYLOAD_BYTES || !charge(budget, payload.length)) return [];
  const kind = sniff(payload);
  const name = kind === 'elf' ? 'payload.bin' : kind === 'gzip' ? 'payload.gz' : 'payload';
  return [{ content: payload, steps: [{ method: 'self-extracting', format: formatOf(headerText), offset: start, length: payload.length }], name, mode: 0o755 }];
}

const HEREDOC = /<<(-?)[ \t]*\\?(['"]?)([A-Za-z_][A-Za-z0-9_]{0,63})\2/;
const REDIRECT = /(?:^|[^>&0-9])>>?[ \t]*(['"]?)([^'"\s;&|<>]{1,1024})\1/;
const TEE = /\|[ \t]*(?:sudo[ \t]+)?tee[ \t]+(?:-a[ \t]+)?(['"]?)([^'"\s;&|<>]{1,1024})\1/;
const STRIP_X = /sed[ \t]+(?:-e[ \t]+)?['"]s\/\^X\/\/['"]/;
const BASE64_DECODE = /\bbase64[ \t]+(?:-d|--decode|-D)\b|\bopenssl[ \t]+(?:enc[ \t]+)?(?:-d[ \t]+)?-?base64[ \t]+-d\b|\bopenssl[ \t]+base64[ \t]+-d\b/;
const SHELL_FEED = /(?:^|[|;&]|\s)(?:\/(?:usr\/)?bin\/)?(bash|sh|dash|zsh|ksh|ash)(?:[ \t]+-s)?[ \t]*<</;

/** uuencoded (`begin 644 name` … `end`) or `begin-base64 644 name` … `====` bodies. */
function uudecode(body: string): { name: string; bytes: Buffer } | undefined {
  const lines = body.split('\n');
  const begin = lines.findIndex((l) => /^begin(-base64)? [0-7]{3,4} \S/.test(l));
  if (begin < 0) return undefined;
  const head = /^begin(-base64)? [0-7]{3,4} (.{1,255})$/.exec(lines[begin]!.trimEnd());
  if (!head) return undefined;
  const name = head[2]!;
  if (head[1]) {
    const end = lines.indexOf('====', begin + 1);
    return { name, bytes: Buffer.from(lines.slice(begin + 1, end < 0 ? undefined : end).join(''), 'base64') };
  }
  const out: number[] = [];
  for (const line of lines.slice(begin + 1)) {
    if (line === 'end' || line === '`' || line === '') break;
    const count = (line.charCodeAt(0) - 32) & 63;
    const chars = [...line.slice(1)].map((c) => (c.charCodeAt(0) - 32) & 63);
    for (let i = 0, n = 0; n < count; i += 4) {
      const [a = 0, b = 0, c = 0, d = 0] = chars.slice(i, i + 4);
      const bytes = [(a << 2) | (b >> 4), ((b & 15) << 4) | (c >> 2), ((c & 3) << 6) | d];
      for (const byte of bytes) if (n++ < count) out.push(byte & 255);
    }
    if (out.length > MAX_PAYLOAD_BYTES) return undefined;
  }
  return { name, bytes: Buffer.from(out) };
}

/** A shell script: by its `#!` line, else by its name (crontabs and shell start-up files are shell too). */
function isShell(input: UnpackInput): boolean {
  const interpreter = input.kind === 'script' ? shebangInterpreter(input.content) : undefined;
  if (interpreter !== undefined) return SHELLS.test(interpreter);
  return /\.(?:sh|bash|ksh|zsh)$|(?:^|\/)(?:cron[^/]*\/[^/]+|crontab|\.?(?:bashrc|profile|bash_profile|zshrc)|rc\.local)$/.test(input.name);
}

const SHELLS = /^(?:sh|bash|dash|zsh|ksh|ash|busybox)$/;

function heredocPayloads(input: UnpackInput, budget: UnpackBudget): Payload[] {
  if (!isShell(input)) return [];
  // the script's text: up to its first NUL (a self-extracting script's payload follows), at most the text bound
  const window = latin1Text(input.content);
  const nul = window.indexOf('\0');
  const text = nul < 0 ? window : window.slice(0, nul);
  if (!HEREDOC.test(text)) return [];
  const lines = text.split('\n');
  const starts: number[] = [];
  for (let i = 0, at = 0; i < lines.length; at += lines[i]!.length + 1, i++) starts.push(at);
  const payloads: Payload[] = [];
  let found = 0;
  for (let i = 0; i < lines.length && found < MAX_HEREDOCS_PER_SCRIPT; i++) {
    const line = lines[i]!;
    const doc = HEREDOC.exec(line);
    if (!doc) continue;
    found++;
    const stripTabs = doc[1] === '-';
    const delimiter = doc[3]!;
    const bodyLines: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const candidate = stripTabs ? lines[j]!.replace(/^\t+/, '') : lines[j]!;
      if (candidate.trimEnd() === delimiter) break;
      bodyLines.push(candidate);
    }
    const bodyStart = starts[i + 1] ?? text.length;
    i = j;
    const rest = line.replace(HEREDOC, ' ');
    const stripX = STRIP_X.test(line);
    let body = bodyLines.map((l) => (stripX && l.startsWith('X') ? l.slice(1) : l)).join('\n');
    const steps: DecodeStep[] = [];
    const target = REDIRECT.exec(rest)?.[2] ?? TEE.exec(rest)?.[2];
    const feeds = SHELL_FEED.exec(line)?.[1];
    const step: DecodeStep = { method: 'heredoc', format: stripX ? 'shar' : 'heredoc', offset: bodyStart, length: body.length, ...(target ? { name: target } : {}), ...(feeds ? { feeds } : {}) };
    steps.push(step);
    let content: Buffer;
    let name = target ? memberPath(target) : '';
    const uu = /\buudecode\b/.test(line) || /^begin(-base64)? [0-7]{3,4} /m.test(body) ? uudecode(body) : undefined;
    if (uu) {
      steps.push({ method: 'uudecode', name: uu.name });
      content = uu.bytes;
      name = memberPath(uu.name);
    } else if (BASE64_DECODE.test(line)) {
      body = body.replace(/\s+/g, '');
      steps.push({ method: 'base64', length: body.length });
      content = Buffer.from(body, 'base64');
    } else {
      // A heredoc only printed or fed to a shell is read where it is, in the script; one written to a file, or a
      // shar member, is read again as that file.
      if (!target && !stripX) continue;
      content = Buffer.from(body + '\n', 'latin1');
    }
    if (content.length === 0 || content.length > MAX_PAYLOAD_BYTES || !charge(budget, content.length)) continue;
    payloads.push({ content, steps, name: name || 'heredoc.sh', mode: 0o755 });
  }
  return payloads;
}

export const selfExtractingUnpacker: Unpacker = {
  name: 'self-extracting',
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[] {
    const { kind } = input;
    if (kind === 'script') return [...appendedPayload(input, budget), ...heredocPayloads(input, budget)];
    return kind === 'text' ? heredocPayloads(input, budget) : [];
  },
};
