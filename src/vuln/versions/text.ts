/**
 * Small character and number helpers shared by the version comparators. Version strings come from hostile input, so
 * every helper here is linear in its input and never converts a digit run to a JavaScript number (a 400-digit
 * component must still compare correctly and must not lose precision).
 */

export const CODE_0 = 0x30;
export const CODE_9 = 0x39;

export function isDigitCode(c: number): boolean {
  return c >= CODE_0 && c <= CODE_9;
}

export function isLowerCode(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

export function isUpperCode(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

/** ASCII letters only: every scheme here defines letters the way C's `isalpha` does in the "C" locale. */
export function isAlphaCode(c: number): boolean {
  return isLowerCode(c) || isUpperCode(c);
}

export function isAlnumCode(c: number): boolean {
  return isDigitCode(c) || isAlphaCode(c);
}

/** -1, 0 or 1. */
export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Plain ordinal comparison of UTF-16 code units (C's strcmp on ASCII). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first character at or after `from` that is not an ASCII digit. */
export function endOfDigits(s: string, from: number): number {
  let i = from;
  while (i < s.length && isDigitCode(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Compares two runs of ASCII digits by numeric value, whatever their length: leading zeros are ignored, then the
 * longer run is larger, then the first differing digit decides. An empty run counts as zero.
 */
export function compareDigitRuns(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && a.charCodeAt(i) === CODE_0) i++;
  while (j < b.length && b.charCodeAt(j) === CODE_0) j++;
  const lengthA = a.length - i;
  const lengthB = b.length - j;
  if (lengthA !== lengthB) return lengthA < lengthB ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The digit run plus one (`"199"` → `"200"`), for range upper bounds such as `^1.2.3` → `<2.0.0`. */
export function incrementDigitRun(digits: string): string {
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  const out = trimmed.split('');
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') {
      out[i] = '0';
    } else {
      out[i] = String.fromCharCode((out[i] ?? '0').charCodeAt(0) + 1);
      return out.join('');
    }
  }
  return '1' + out.join('');
}

/** True if the run is all zeros (or empty). */
export function isZeroRun(digits: string): boolean {
  for (let i = 0; i < digits.length; i++) if (digits.charCodeAt(i) !== CODE_0) return false;
  return true;
}

/** True if `s` is one or more ASCII digits. */
export function isDigits(s: string): boolean {
  return s.length > 0 && endOfDigits(s, 0) === s.length;
}
