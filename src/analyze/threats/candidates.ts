import type { FileHeader } from '../analyzer.js';
import { MAX_PROGRAM_CANDIDATE_BYTES, MAX_TEXT_CANDIDATE_BYTES } from '../limits.js';

/**
 * Which files the threat detectors open, judged from the path and tar header alone (called for every entry of every
 * layer, so only string and number tests). One classifier shared by every detector, so "what is a script" or "what is
 * a crontab" means the same thing everywhere. A file can be several kinds at once (an executable `.sh` is both).
 */
export const Kind = {
  /** Executable mode bits, a `bin/`/`sbin/`/`libexec/` or temporary directory, or a Windows/Linux program or library extension. */
  Executable: 1 << 0,
  /** Interpreted code by extension (sh, Python, Perl, PHP, PowerShell, JavaScript, Ruby, Lua, VBScript, batch). */
  Script: 1 << 1,
  /** Server-side web pages where webshells live (PHP, JSP, ASP, CGI). */
  Web: 1 << 2,
  /** Configuration: `etc/`, and json/yaml/toml/ini/conf files anywhere. */
  Config: 1 << 3,
  /** Places that run things later or on login: crontabs, systemd units, init scripts, shell rc files, ld.so.preload. */
  Persistence: 1 << 4,
  /** Shell and REPL history files. */
  History: 1 << 5,
  /** Files that usually hold credentials: keys, certificates bundles, `.npmrc`, docker `config.json`, `.aws/credentials`, `.env`. */
  SecretFile: 1 << 6,
  /** `authorized_keys` files. */
  AuthorizedKeys: 1 << 7,
  /** Windows program or library by extension (.exe .dll .sys .scr .ocx .cpl .efi). */
  WindowsProgram: 1 << 8,
} as const;

const BIN_DIR = /(^|\/)(s?bin|libexec)\//;
/** Droppers stage payloads in world-writable temporary directories, often without exec bits in the layer. */
const TEMP_DIR = /^(tmp|var\/tmp|dev\/shm|run\/shm)\//;
const WINDOWS_EXT = /\.(exe|dll|sys|scr|ocx|cpl|efi|com)$/i;
const NATIVE_LIB = /\.so(\.\d+)*$/;
const SCRIPT_EXT = /\.(sh|bash|zsh|ksh|ash|py|pyw|pl|pm|php\d?|phtml|ps1|psm1|psd1|js|mjs|cjs|rb|lua|vbs|vbe|bat|cmd|jsp|jspx|asp|aspx|ashx|cgi|cfm)$/i;
const WEB_EXT = /\.(php\d?|phtml|phar|jsp|jspx|asp|aspx|ashx|asmx|cer|cgi|cfm)$/i;
const CONFIG_EXT = /\.(json|ya?ml|toml|ini|conf|cfg|cnf|properties|env|service|timer|xml)$/i;
const PERSISTENCE = [
  /^etc\/crontab$/,
  /^etc\/cron\.[^/]+\//,
  /^var\/spool\/cron\//,
  /^etc\/(systemd|init\.d|rc\d?\.d|init)\//,
  /^(usr\/)?lib\/systemd\/system\//,
  /^etc\/rc\.local$/,
  /^etc\/profile(\.d\/.*)?$/,
  /^etc\/(bash\.bashrc|zsh\/zshrc|environment)$/,
  /^etc\/ld\.so\.preload$/,
  /(^|\/)\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile)$/,
  /^etc\/update-motd\.d\//,
  /^etc\/xdg\/autostart\//,
];
const HISTORY = /(^|\/)\.(bash|zsh|sh|ash|python|mysql|psql|node_repl|rediscli|lesshst)_?history$/;
const SECRET_FILE = [
  /\.(pem|key|p12|pfx|jks|keystore|ppk|gpg|asc|ovpn|kdbx)$/i,
  /(^|\/)id_(rsa|dsa|ecdsa|ed25519)$/,
  /(^|\/)\.ssh\/(?!known_hosts|authorized_keys|config$)[^/]+(?<!\.pub)$/,
  /(^|\/)\.(npmrc|pypirc|netrc|git-credentials|pgpass|env|envrc|s3cfg|dockercfg|boto|terraformrc)$/,
  /(^|\/)\.env\.[a-z]+$/i,
  /(^|\/)\.docker\/config\.json$/,
  /(^|\/)\.aws\/(credentials|config)$/,
  /(^|\/)\.config\/gcloud\//,
  /(^|\/)\.kube\/config$/,
  /(^|\/)(credentials|secrets?|service[-_]account)[^/]*\.(json|ya?ml|txt)$/i,
  /(^|\/)wp-config\.php$/,
];
const AUTHORIZED_KEYS = /(^|\/)\.ssh\/authorized_keys2?$/;

/** The kinds a file is, as a bit set of `Kind`; 0 for files no threat detector opens. */
export function candidateKinds(path: string, header: Pick<FileHeader, 'size' | 'mode' | 'type'>): number {
  // Every threat detector's `wants` asks about the same entry in turn: classify it once.
  if (header === last.header && path === last.path) return last.kinds;
  const kinds = classify(path, header);
  last = { header, path, kinds };
  return kinds;
}

let last: { header: object | undefined; path: string; kinds: number } = { header: undefined, path: '', kinds: 0 };

function classify(path: string, header: Pick<FileHeader, 'size' | 'mode' | 'type'>): number {
  if (header.type !== 'file' || header.size === 0) return 0;
  let kinds = 0;
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (WINDOWS_EXT.test(name)) kinds |= Kind.WindowsProgram | Kind.Executable;
  if ((header.mode & 0o111) !== 0 || BIN_DIR.test(path) || NATIVE_LIB.test(name) || TEMP_DIR.test(path)) kinds |= Kind.Executable;
  if (SCRIPT_EXT.test(name)) kinds |= Kind.Script;
  if (WEB_EXT.test(name)) kinds |= Kind.Web;
  if (CONFIG_EXT.test(name) || path.startsWith('etc/')) kinds |= Kind.Config;
  if (PERSISTENCE.some((re) => re.test(path))) kinds |= Kind.Persistence;
  if (HISTORY.test(path)) kinds |= Kind.History;
  if (SECRET_FILE.some((re) => re.test(path))) kinds |= Kind.SecretFile;
  if (AUTHORIZED_KEYS.test(path)) kinds |= Kind.AuthorizedKeys;
  if (kinds === 0) return 0;
  // Size caps: text kinds are dropped for huge files, programs only beyond the program cap.
  if (header.size > MAX_TEXT_CANDIDATE_BYTES) kinds &= Kind.Executable | Kind.WindowsProgram;
  if (header.size > MAX_PROGRAM_CANDIDATE_BYTES) kinds = 0;
  return kinds;
}

/** Kinds whose content is text a detector reads line by line. */
export const TEXT_KINDS = Kind.Script | Kind.Web | Kind.Config | Kind.Persistence | Kind.History | Kind.SecretFile | Kind.AuthorizedKeys;

export function hasKind(kinds: number, wanted: number): boolean {
  return (kinds & wanted) !== 0;
}

/** Whether content looks like text (no NUL in the first 8 KiB): scripts without an extension are found by this. */
export function looksLikeText(content: Buffer): boolean {
  return content.subarray(0, 8192).indexOf(0) < 0;
}

/** The interpreter named by a `#!` line (`sh`, `bash`, `python3`, `perl`, `node`, `php` …), or undefined. */
export function shebangInterpreter(content: Buffer): string | undefined {
  if (content.length < 3 || content[0] !== 0x23 || content[1] !== 0x21) return undefined;
  const end = content.indexOf(0x0a);
  const line = content.subarray(2, end < 0 ? Math.min(content.length, 256) : Math.min(end, 256)).toString('latin1').trim();
  const parts = line.split(/\s+/);
  let program = parts[0] ?? '';
  if (program.endsWith('/env')) program = parts.find((p, i) => i > 0 && !p.startsWith('-')) ?? '';
  const base = program.slice(program.lastIndexOf('/') + 1);
  return base === '' ? undefined : base;
}

const latin1Texts = new WeakMap<Buffer, string>();

/**
 * The first `MAX_TEXT_CANDIDATE_BYTES` of a file as latin1 text (one char per byte, so offsets in the string are
 * offsets in the file), converted once and shared by every text detector that reads the same file.
 */
export function latin1Text(content: Buffer): string {
  let text = latin1Texts.get(content);
  if (text === undefined) {
    text = content.subarray(0, MAX_TEXT_CANDIDATE_BYTES).toString('latin1');
    latin1Texts.set(content, text);
  }
  return text;
}
