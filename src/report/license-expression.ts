/**
 * SPDX license expressions (SPDX 2.3, Annex D), checked against the SPDX License List, for the SBOM renderers.
 * Package managers report licenses in many shapes (`MIT`, `GPL-2+`, `BSD License`, `GPLv2+ and LGPLv2+`); only a
 * real SPDX expression may go into SPDX's `licenseDeclared` or CycloneDX's `license.id` / `expression`.
 *
 *   expression := or
 *   or         := and ("OR" and)*
 *   and        := with ("AND" with)*
 *   with       := atom ("WITH" exception-id)?
 *   atom       := "(" or ")" | license-id ["+"] | ["DocumentRef-" idstring ":"] "LicenseRef-" idstring
 */
import { SPDX_EXCEPTION_IDS, SPDX_LICENSE_IDS } from './spdx-license-ids.js';
import { MAX_LICENSE_EXPRESSION_CHARS, MAX_LICENSE_EXPRESSION_NESTING } from './limits.js';

const byLowerCase = (ids: readonly string[]): Map<string, string> => new Map(ids.map((id) => [id.toLowerCase(), id]));
const LICENSES = byLowerCase(SPDX_LICENSE_IDS);
const EXCEPTIONS = byLowerCase(SPDX_EXCEPTION_IDS);

const IDSTRING = /^[A-Za-z0-9.-]+$/;
const LICENSE_REF = /^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;
const OPERATORS = new Set(['AND', 'OR', 'WITH']);

export interface LicenseExpression {
  /** The expression with identifiers in their canonical case, operators in capitals and single spaces. */
  expression: string;
  /** True when it is a single license identifier (possibly with `+`), no operator, no reference. */
  simple: boolean;
  /** True when it uses `LicenseRef-` / `DocumentRef-`, which an SPDX document must then define itself. */
  usesLicenseRef: boolean;
}

/** The canonical form of an SPDX License List identifier (`mit` → `MIT`), or undefined if it is not on the list. */
export function spdxLicenseId(text: string): string | undefined {
  return LICENSES.get(text.trim().toLowerCase());
}

class ParseError extends Error {}

class Parser {
  private position = 0;
  usesLicenseRef = false;
  operators = 0;

  constructor(private readonly tokens: readonly string[]) {}

  parse(): string {
    const result = this.or(0);
    if (this.position !== this.tokens.length) throw new ParseError(`unexpected "${this.tokens[this.position]}"`);
    return result;
  }

  private peekOperator(): string | undefined {
    const token = this.tokens[this.position]?.toUpperCase();
    return token !== undefined && OPERATORS.has(token) ? token : undefined;
  }

  private or(depth: number): string {
    const parts = [this.and(depth)];
    while (this.peekOperator() === 'OR') {
      this.position++;
      this.operators++;
      parts.push(this.and(depth));
    }
    return parts.join(' OR ');
  }

  private and(depth: number): string {
    const parts = [this.with(depth)];
    while (this.peekOperator() === 'AND') {
      this.position++;
      this.operators++;
      parts.push(this.with(depth));
    }
    return parts.join(' AND ');
  }

  private with(depth: number): string {
    const license = this.atom(depth);
    if (this.peekOperator() !== 'WITH') return license;
    this.position++;
    this.operators++;
    const token = this.tokens[this.position++];
    const exception = token === undefined ? undefined : EXCEPTIONS.get(token.toLowerCase());
    if (!exception) throw new ParseError(`"${token ?? ''}" is not an SPDX license exception`);
    return `${license} WITH ${exception}`;
  }

  private atom(depth: number): string {
    const token = this.tokens[this.position++];
    if (token === undefined) throw new ParseError('the expression ends too early');
    if (token === '(') {
      if (depth >= MAX_LICENSE_EXPRESSION_NESTING) throw new ParseError('too deeply nested');
      const inner = this.or(depth + 1);
      if (this.tokens[this.position++] !== ')') throw new ParseError('a parenthesis is not closed');
      return `(${inner})`;
    }
    if (LICENSE_REF.test(token)) {
      this.usesLicenseRef = true;
      return token;
    }
    // Deprecated ids such as `GPL-2.0+` are on the list with their `+`; otherwise `+` means "or any later version".
    const listed = LICENSES.get(token.toLowerCase());
    if (listed) return listed;
    const id = token.endsWith('+') ? token.slice(0, -1) : undefined;
    const canonical = id !== undefined && IDSTRING.test(id) ? LICENSES.get(id.toLowerCase()) : undefined;
    if (!canonical) throw new ParseError(`"${token}" is not an SPDX license identifier`);
    return `${canonical}+`;
  }
}

/** Parses an SPDX license expression; undefined when `text` is not one (including `NONE` and `NOASSERTION`). */
export function parseLicenseExpression(text: string): LicenseExpression | undefined {
  if (text.length === 0 || text.length > MAX_LICENSE_EXPRESSION_CHARS) return undefined;
  const tokens = text.replace(/[()]/g, ' $& ').split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) return undefined;
  const parser = new Parser(tokens);
  try {
    const expression = parser.parse();
    return {
      expression,
      simple: parser.operators === 0 && !parser.usesLicenseRef && !expression.startsWith('('),
      usesLicenseRef: parser.usesLicenseRef,
    };
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

/**
 * One expression for all the licenses a package declares (each of them applies, so they are joined with `AND`),
 * or undefined when any of them is not an SPDX expression: a partial answer would claim less than the package says.
 */
export function combinedLicenseExpression(licenses: readonly string[]): LicenseExpression | undefined {
  const parsed: LicenseExpression[] = [];
  const seen = new Set<string>();
  for (const license of licenses) {
    const one = parseLicenseExpression(license);
    if (!one) return undefined;
    if (seen.has(one.expression)) continue;
    seen.add(one.expression);
    parsed.push(one);
  }
  if (parsed.length === 0) return undefined;
  if (parsed.length === 1) return parsed[0];
  return {
    expression: parsed.map((p) => (p.simple ? p.expression : `(${p.expression})`)).join(' AND '),
    simple: false,
    usesLicenseRef: parsed.some((p) => p.usesLicenseRef),
  };
}
