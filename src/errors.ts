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
