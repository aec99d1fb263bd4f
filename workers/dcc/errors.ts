/**
 * Errors of the DCC area (DESIGN.md, "Conventions": one errors.ts per area, stable `code`, `cause` kept).
 * The verifier never throws these at its caller: it folds them into a `VerifyResult` (verify.ts).
 */

export type DccErrorCode =
  | 'DCC_BAD_PREFIX'
  | 'DCC_BAD_BASE45'
  | 'DCC_BAD_ZLIB'
  | 'DCC_BAD_COSE'
  | 'DCC_UNSUPPORTED_ALG'
  | 'DCC_UNKNOWN_KID'
  | 'DCC_BAD_SIGNATURE'
  | 'DCC_BAD_CWT'
  | 'DCC_SCHEMA_INVALID'
  | 'DCC_EXPIRED'
  | 'DCC_NOT_YET_VALID'
  | 'DCC_BAD_KEY'
  | 'DCC_BAD_UVCI'

export class DccError extends Error {
  readonly code: DccErrorCode
  constructor (code: DccErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DccError'
    this.code = code
  }
}
