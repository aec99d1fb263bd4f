/**
 * Errors of the bench suite. Each class carries a stable `code` so callers branch on codes, never on
 * message text (DESIGN.md, Conventions).
 */

export class BenchError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A command-line flag or option value the bench cannot run with; the message names the flag. */
export class BenchOptionsError extends BenchError {
  /** the flag as the user typed it, e.g. '--rate' */
  readonly flag: string
  constructor(code: 'BENCH_UNKNOWN_FLAG' | 'BENCH_BAD_VALUE' | 'BENCH_MISSING_VALUE', flag: string, message: string) {
    super(code, message)
    this.flag = flag
  }
}

/** Generator options out of range (shares that do not sum, unknown department table...). */
export class SyntheticConfigError extends BenchError {
  constructor(message: string) {
    super('BENCH_SYNTHETIC_CONFIG', message)
  }
}

/** The ceiling measurement could not run or did not round-trip. */
export class CeilingError extends BenchError {
  constructor(code: 'BENCH_CEILING_SETUP' | 'BENCH_CEILING_PUBLISH' | 'BENCH_CEILING_CONSUME', message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
