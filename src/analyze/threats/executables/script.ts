import { shebangInterpreter } from '../candidates.js';

export type ScriptLanguage =
  | 'sh'
  | 'bash'
  | 'zsh'
  | 'ksh'
  | 'csh'
  | 'fish'
  | 'python'
  | 'perl'
  | 'php'
  | 'powershell'
  | 'javascript'
  | 'ruby'
  | 'lua'
  | 'tcl'
  | 'awk'
  | 'r'
  | 'vbscript'
  | 'batch'
  | 'jsp'
  | 'asp';

export interface ScriptFacts {
  language: ScriptLanguage;
  /** How it was told: the `#!` line wins over the file name. */
  by: 'shebang' | 'extension';
  /** The interpreter the `#!` line names (`python3`, `node` …). */
  interpreter?: string;
}

const INTERPRETERS = new Map<string, ScriptLanguage>(Object.entries({
  sh: 'sh',
  dash: 'sh',
  ash: 'sh',
  busybox: 'sh',
  bash: 'bash',
  zsh: 'zsh',
  ksh: 'ksh',
  mksh: 'ksh',
  pdksh: 'ksh',
  csh: 'csh',
  tcsh: 'csh',
  fish: 'fish',
  python: 'python',
  pypy: 'python',
  perl: 'perl',
  php: 'php',
  'php-cgi': 'php',
  pwsh: 'powershell',
  powershell: 'powershell',
  node: 'javascript',
  nodejs: 'javascript',
  deno: 'javascript',
  bun: 'javascript',
  qjs: 'javascript',
  ruby: 'ruby',
  jruby: 'ruby',
  lua: 'lua',
  luajit: 'lua',
  tclsh: 'tcl',
  wish: 'tcl',
  expect: 'tcl',
  awk: 'awk',
  gawk: 'awk',
  mawk: 'awk',
  nawk: 'awk',
  Rscript: 'r',
}) as [string, ScriptLanguage][]);

const EXTENSIONS = new Map<string, ScriptLanguage>(Object.entries({
  sh: 'sh',
  ash: 'sh',
  bash: 'bash',
  zsh: 'zsh',
  ksh: 'ksh',
  csh: 'csh',
  fish: 'fish',
  py: 'python',
  pyw: 'python',
  pl: 'perl',
  pm: 'perl',
  php: 'php',
  php3: 'php',
  php4: 'php',
  php5: 'php',
  php7: 'php',
  php8: 'php',
  phtml: 'php',
  ps1: 'powershell',
  psm1: 'powershell',
  psd1: 'powershell',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  rb: 'ruby',
  lua: 'lua',
  tcl: 'tcl',
  awk: 'awk',
  r: 'r',
  vbs: 'vbscript',
  vbe: 'vbscript',
  bat: 'batch',
  cmd: 'batch',
  jsp: 'jsp',
  jspx: 'jsp',
  asp: 'asp',
  aspx: 'asp',
  ashx: 'asp',
}) as [string, ScriptLanguage][]);

/** The language an interpreter name stands for: `python3.11` → python, `php8.2` → php, `perl5.36.0` → perl. */
export function interpreterLanguage(interpreter: string): ScriptLanguage | undefined {
  return INTERPRETERS.get(interpreter) ?? INTERPRETERS.get(interpreter.replace(/[\d.]+$/, ''));
}

/**
 * What language a script is in, by its `#!` line, else by its file name's extension; undefined for files that are
 * neither (and for a `#!` naming an unknown interpreter on a file without a known extension).
 * A fact for other detectors (reverse shells per language, webshells): no finding comes of it alone.
 */
export function scriptFacts(path: string, content: Buffer): ScriptFacts | undefined {
  const interpreter = shebangInterpreter(content);
  if (interpreter !== undefined) {
    const language = interpreterLanguage(interpreter);
    if (language) return { language, by: 'shebang', interpreter };
  }
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const language = EXTENSIONS.get(name.slice(dot + 1).toLowerCase());
  return language ? { language, by: 'extension' } : undefined;
}
