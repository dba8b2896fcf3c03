/**
 * Webshells: server pages that hand request input to code or command execution. A page that only evals its own
 * data, or runs a fixed command, is not one; input must reach the sink, directly, through decoding layers inside
 * the call (`eval(base64_decode($_POST['x']))`) or through a variable assigned from input.
 */
import { MAX_WEBSHELL_ARGUMENT_CHARS, MAX_WEBSHELL_ASSIGNMENTS, MAX_WEBSHELL_HITS, MAX_WEBSHELL_PREG_REPLACE_CALLS, MAX_WEBSHELL_SINKS, MAX_WEBSHELL_TAINTED_VARIABLES } from '../../limits.js';

export interface WebshellHit {
  language: 'php' | 'jsp' | 'asp';
  /** What executes the input, e.g. `eval`, `system`, `Runtime.exec`, `preg_replace /e`. */
  sink: string;
  offset: number;
}

interface Language {
  name: WebshellHit['language'];
  /** Calls that execute code or commands; group 1 names the sink. Must end at the opening parenthesis or the argument. */
  sink: RegExp;
  /** Request input. */
  input: RegExp;
  /** `var = <expr>` assignments; group 1 is the variable name (without sigil), group 2 the expression. */
  assignment: RegExp;
  variableReference: (name: string) => string;
}

const PHP: Language = {
  name: 'php',
  sink: /(?<![\w$>:])(eval|assert|system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|create_function|call_user_func(?:_array)?)\s*\(/gi,
  input: /\$_(?:GET|POST|REQUEST|COOKIE|FILES)\b|\$_SERVER\s*\[\s*['"]HTTP_|\$HTTP_(?:GET|POST|COOKIE)_VARS\b/i,
  assignment: /\$([A-Za-z_]\w{0,63})\s*\.?=(?![=>])([^;]{0,400})/g,
  variableReference: (name) => `\\$${name}\\b`,
};

const JSP: Language = {
  name: 'jsp',
  sink: /(Runtime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec|new\s+ProcessBuilder)\s*\(/g,
  input: /\brequest\s*\.\s*(?:getParameter(?:Values|Map)?|getHeader|getInputStream|getReader|getQueryString)\s*\(/,
  assignment: /\b(?:String|Object|String\[\])\s+([A-Za-z_]\w{0,63})\s*=([^;]{0,400})/g,
  variableReference: (name) => `\\b${name}\\b`,
};

const ASP: Language = {
  name: 'asp',
  sink: /((?<![\w.])(?:eval|execute|executeglobal)|Process\s*\.\s*Start|ProcessStartInfo|(?:CreateObject\s*\(\s*["']WScript\.Shell["']\s*\)|\b(?:o|obj|wsh|w)?Shell\w{0,20})\s*\.\s*(?:Exec|Run))\s*[(\s]/gi,
  input: /\bRequest\s*(?:\.\s*(?:Form|QueryString|Item|Params|Cookies|Headers|ServerVariables)\b|\(|\[)/i,
  assignment: /\b(?:Dim\s+|var\s+|string\s+|Set\s+)?([A-Za-z_]\w{0,63})\s*=([^\n;]{0,400})/gi,
  variableReference: (name) => `\\b${name}\\b`,
};

/**
 * The raw request body or headers count only through a decoding layer: a development server's interactive console
 * evals the plain body by design (App Engine's PHP runtime does), a webshell hides its payload.
 */
const PHP_RAW_BODY = /php:\/\/input|\bgetallheaders\s*\(/i;
const PHP_DECODE_LAYER = /\b(?:base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin|convert_uudecode)\s*\(/i;

export function webLanguageOf(path: string): Language | undefined {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (/^(php\d?|phtml|phar|inc)$/.test(ext)) return PHP;
  if (ext === 'jsp' || ext === 'jspx') return JSP;
  if (/^(aspx?|ashx|asmx|cer|asa)$/.test(ext)) return ASP;
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The argument text of a call opening at `open`: up to the end of the statement, bounded. */
function argumentsAt(text: string, open: number, language: Language): string {
  const region = text.slice(open, open + MAX_WEBSHELL_ARGUMENT_CHARS);
  const end = region.search(language === ASP ? /[\n;]/ : /;/);
  return end < 0 ? region : region.slice(0, end);
}

export function findWebshell(text: string, language: Language): WebshellHit[] {
  const hits: WebshellHit[] = [];
  // Variables that carry request input (one level of assignment; enough for `$c=$_POST['c']; system($c);`).
  const tainted = new Set<string>();
  let assignments = 0;
  for (const m of text.matchAll(language.assignment)) {
    if (++assignments > MAX_WEBSHELL_ASSIGNMENTS || tainted.size >= MAX_WEBSHELL_TAINTED_VARIABLES) break;
    if (language.input.test(m[2]!)) tainted.add(m[1]!);
  }
  const taintedRef = tainted.size > 0 ? new RegExp([...tainted].map((v) => language.variableReference(escapeRegExp(v))).join('|'), language === ASP ? 'i' : '') : undefined;
  const fed = (args: string): boolean =>
    language.input.test(args) || (taintedRef?.test(args) ?? false) || (language === PHP && PHP_RAW_BODY.test(args) && PHP_DECODE_LAYER.test(args));

  let sinks = 0;
  for (const m of text.matchAll(language.sink)) {
    if (++sinks > MAX_WEBSHELL_SINKS || hits.length >= MAX_WEBSHELL_HITS) break;
    const before = text.slice(Math.max(0, m.index - 20), m.index);
    if (/\bfunction\s*&?\s*$|\bdef\s+$|\bSub\s+$|\bFunction\s+$/i.test(before)) continue;
    if (fed(argumentsAt(text, m.index + m[0].length, language))) hits.push({ language: language.name, sink: m[1]!.replace(/\s+/g, ''), offset: m.index });
  }

  if (language === PHP && hits.length < MAX_WEBSHELL_HITS) {
    // Request input called as a function: `$_GET['f']($_GET['c'])`, or a variable holding it.
    const callees = [/\$_(?:GET|POST|REQUEST|COOKIE)\s*\[[^\]\n]{1,60}\]\s*\(/g];
    if (tainted.size > 0) callees.push(new RegExp(`(?<![\\w>:])(?:${[...tainted].map((v) => `\\$${escapeRegExp(v)}`).join('|')})\\s*\\(`, 'g'));
    for (const re of callees) {
      const m = re.exec(text);
      if (m) hits.push({ language: 'php', sink: 'variable function', offset: m.index });
    }
    // Backtick shell execution of input: `echo `$_GET[c]`;` (not SQL quoting, which sits inside a string).
    const backtick = /(?:=|\becho|\bprint|\()\s*`[^`'"\n]{0,200}?\$_(?:GET|POST|REQUEST|COOKIE)[^`\n]{0,100}`\s*[;)]/.exec(text);
    if (backtick) hits.push({ language: 'php', sink: 'backtick operator', offset: backtick.index });
    // preg_replace with the /e modifier evaluates the replacement.
    let pregs = 0;
    for (const m of text.matchAll(/\bpreg_replace\s*\(\s*(['"])([^'"\n]{1,300})\1/g)) {
      if (++pregs > MAX_WEBSHELL_PREG_REPLACE_CALLS) break;
      const pattern = m[2]!;
      const modifiers = pattern.slice(pattern.lastIndexOf(pattern[0]!) + 1);
      if (/^[a-zA-Z]*e[a-zA-Z]*$/.test(modifiers) && fed(argumentsAt(text, m.index + m[0].length, PHP))) {
        hits.push({ language: 'php', sink: 'preg_replace /e', offset: m.index });
        break;
      }
    }
  }
  return hits.sort((a, b) => a.offset - b.offset).slice(0, MAX_WEBSHELL_HITS);
}
