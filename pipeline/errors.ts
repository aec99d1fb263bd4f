/**
 * Errors of the running platform. Each class carries a stable `code` (callers branch on it, never on
 * message text), an HTTP status where one applies, and the original `cause`.
 */
export class SidepError extends Error {
  readonly code: string
  readonly status: number
  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options.status ?? 500
  }
}

/** A configuration value is missing or malformed; raised once at start. */
export class ConfigError extends SidepError {
  constructor(message: string) {
    super('CONFIG_INVALID', message)
  }
}

/** The request cannot be served as sent (HTTP 4xx). */
export class RequestError extends SidepError {
  readonly field: string
  constructor(code: string, status: number, message: string, field = '') {
    super(code, message, { status })
    this.field = field
  }
}

/** A store or the broker could not be reached or timed out: retry later, never dead-letter. */
export class RetriableError extends SidepError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { status: 503, cause })
  }
}

/** The data itself cannot be stored: dead-letter it after bounded attempts. */
export class PoisonError extends SidepError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { status: 422, cause })
  }
}

/** Unknown lab, revoked token or duplicate lab id. */
export class LabError extends SidepError {}
