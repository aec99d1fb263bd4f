/**
 * Issuing a signed test certificate: payload (payload.ts) → CWT claims (cwt.ts) → COSE_Sign1 (cose.ts)
 * → HC1 (hc1.ts). Pure and synchronous: runs inside the piscina workers (sign-batch.ts).
 */
import type { CanonicalResult } from '../model/canonical.ts'
import { coseSign1, type CoseSigningKey } from './cose.ts'
import { encodeCwt } from './cwt.ts'
import { encodeHc1 } from './hc1.ts'
import type { DccSigner } from './keys.ts'
import { buildTestPayload, type DccTestPayload, type IneligibleReason, type PayloadOptions } from './payload.ts'
import { makeUvci } from './uvci.ts'

export const DEFAULT_TEST_VALIDITY_HOURS = 72

export interface SignClaims {
  /** CWT iss: issuing country, ISO 3166-1 alpha-2 */
  iss: string
  /** seconds since the epoch */
  iat: number
  /** seconds since the epoch */
  exp: number
}

/** Sign one payload into an "HC1:" string (hcert §3.3). */
export function signPayload (payload: unknown, claims: SignClaims, key: CoseSigningKey): string {
  return encodeHc1(coseSign1(encodeCwt({ iss: claims.iss, iat: claims.iat, exp: claims.exp, payload }), key))
}

/**
 * CWT exp for a test certificate, in seconds: sample time + validity (default 72 h), never beyond the
 * signing certificate's notAfter (hcert §3.3.1: "exp … must not exceed the validity period of the DSC").
 */
export function testCertificateExpiry (sampledAtMs: number, signerNotAfterMs: number, validityHours = DEFAULT_TEST_VALIDITY_HOURS): number {
  return Math.floor(Math.min(sampledAtMs + validityHours * 3_600_000, signerNotAfterMs) / 1000)
}

export interface IssueOptions extends Omit<PayloadOptions, 'uvci'> {
  signer: DccSigner
  /** signing time; default Date.now() */
  nowMs?: number
  validityHours?: number
  /** default: a fresh random UVCI for `country` */
  uvci?: string
}

export type IssueOutcome =
  | { eligible: true, hc1: string, ci: string, iat: number, exp: number, payload: DccTestPayload, warnings: string[] }
  | { eligible: false, reason: IneligibleReason, message: string }

export function issueTestCertificate (result: CanonicalResult, options: IssueOptions): IssueOutcome {
  const country = options.country ?? 'FR'
  const ci = options.uvci ?? makeUvci(country)
  const built = buildTestPayload(result, { ...options, country, uvci: ci })
  if (!built.eligible) return built
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000)
  const exp = testCertificateExpiry(result.sampledAtMs, options.signer.notAfterMs, options.validityHours)
  const hc1 = signPayload(built.payload, { iss: country, iat, exp }, options.signer)
  return { eligible: true, hc1, ci, iat, exp, payload: built.payload, warnings: built.warnings }
}
