/**
 * Errors that drrkit reports to a person. A `DrrkitError` carries a one-line message that names
 * the file, flag or value at fault and what is wrong with it; the CLI prints it without a stack
 * trace and exits non-zero. Anything else that escapes is a bug.
 */
export class DrrkitError extends Error {
  /** Optional: the file, flag or parameter that the message is about. */
  readonly subject?: string;

  constructor(message: string, subject?: string) {
    super(message);
    this.name = 'DrrkitError';
    this.subject = subject;
  }
}

/** Throws a DrrkitError naming `what` unless `value` is a finite number. */
export function requireFinite(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DrrkitError(`${what} must be a finite number, got ${String(value)}`, what);
  }
  return value;
}

/** Throws a DrrkitError naming `what` unless `value` is a finite number greater than zero. */
export function requirePositive(value: number, what: string): number {
  requireFinite(value, what);
  if (value <= 0) throw new DrrkitError(`${what} must be greater than zero, got ${value}`, what);
  return value;
}

/** Throws a DrrkitError naming `what` unless `value` is an integer ≥ 1. */
export function requirePositiveInteger(value: number, what: string): number {
  requireFinite(value, what);
  if (!Number.isInteger(value) || value < 1) {
    throw new DrrkitError(`${what} must be a whole number ≥ 1, got ${value}`, what);
  }
  return value;
}

/**
 * A value from a file (a header field, a tag, a name) made safe to echo in a message: control
 * and non-ASCII characters become `\xNN` / `\u{…}` escapes and the text is cut to `limit`
 * characters with "…". Use it whenever a message repeats something read from an input file.
 */
export function quoteValue(value: string, limit = 80): string {
  let out = '';
  for (const character of value) {
    if (out.length >= limit) return `${out}…`;
    const code = character.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) out += character;
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}

/**
 * A whole message made safe for a terminal: control characters other than none are escaped
 * (a message is one line), printable Unicode is kept, and it is cut to `limit` characters.
 */
export function sanitizeMessage(message: string, limit = 600): string {
  let out = '';
  for (const character of message) {
    if (out.length >= limit) return `${out}…`;
    const code = character.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029 || code === 0xfffd) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += character;
  }
  return out;
}
