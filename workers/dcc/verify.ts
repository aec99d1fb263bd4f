/**
 * Decoding and verification of an HC1 string, step by step (hcert spec §3.3 read backwards, and the
 * dgc-testdata validation steps): prefix → base45 → zlib → cose → signature → cwt → schema → expiry.
 * Never throws on bad input: the first failing step is named in the result.
 */
import { X509Certificate, type KeyObject } from 'node:crypto'
import { decodeCoseSign1, verifyCoseSign1, type CoseSign1 } from './cose.ts'
import { decodeCwt } from './cwt.ts'
import { DccError, type DccErrorCode } from './errors.ts'
import { base45Decode, decompress, unprefix } from './hc1.ts'
import { algForKey, computeKid, parseCertificate, type DccAlg } from './keys.ts'
import { validateDccPayload } from './schema.ts'

export type VerifyStep = 'prefix' | 'base45' | 'zlib' | 'cose' | 'signature' | 'cwt' | 'schema' | 'expiry'
export const VERIFY_STEPS: readonly VerifyStep[] = ['prefix', 'base45', 'zlib', 'cose', 'signature', 'cwt', 'schema', 'expiry']

export interface TrustListEntry {
  /** base64 kid as published in the trust list; computed from the certificate when absent */
  kid?: string
  /** the DSC: base64 DER, PEM, or DER bytes */
  certificate: string | Uint8Array
}

interface TrustedKey { kid: string, publicKey: KeyObject, alg: DccAlg, certificate: X509Certificate }

/** Parsed trust list, keyed by base64 kid; build once and reuse across verifications. */
export class TrustStore {
  readonly #byKid = new Map<string, TrustedKey[]>()
  constructor (entries: Iterable<TrustListEntry | X509Certificate> = []) {
    for (const e of entries) this.add(e)
  }

  add (entry: TrustListEntry | X509Certificate): void {
    const certificate = entry instanceof X509Certificate ? entry : parseCertificate(entry.certificate)
    const kid = entry instanceof X509Certificate || entry.kid === undefined ? computeKid(certificate.raw).toString('base64') : entry.kid
    const key = toTrustedKey(certificate, kid)
    const list = this.#byKid.get(kid)
    if (list === undefined) this.#byKid.set(kid, [key])
    else list.push(key)
  }

  get (kid: string): TrustedKey[] { return this.#byKid.get(kid) ?? [] }
}

function toTrustedKey (certificate: X509Certificate, kid: string): TrustedKey {
  return { kid, publicKey: certificate.publicKey, alg: algForKey(certificate.publicKey), certificate }
}

export interface VerifyOptions {
  /** trusted DSCs looked up by kid (protected header first, unprotected header second, hcert §3.3.1) */
  trustStore?: TrustStore
  /** verify against this DSC only (base64 DER, PEM, DER or parsed); a kid in the message must match it */
  certificate?: string | Uint8Array | X509Certificate
  /** the clock for the expiry step; default now */
  now?: Date | number
  /** tolerated clock difference for iat/exp, seconds; default 0 */
  clockSkewSeconds?: number
  /** run the schema step; default true */
  schema?: boolean
}

export interface VerifyResult {
  valid: boolean
  failedStep?: VerifyStep
  error?: { code: DccErrorCode, message: string }
  payload?: Record<string, unknown>
  header?: { alg?: DccAlg, algId?: number, kid?: string }
  claims?: { iss?: string, iat?: number, exp?: number }
  /** schema messages when the schema step failed */
  schemaErrors?: string[]
}

function fail (result: VerifyResult, step: VerifyStep, code: DccErrorCode, message: string): VerifyResult {
  result.valid = false
  result.failedStep = step
  result.error = { code, message }
  return result
}

function failWith (result: VerifyResult, step: VerifyStep, err: unknown, fallback: DccErrorCode): VerifyResult {
  if (err instanceof DccError) return fail(result, step, err.code, err.message)
  return fail(result, step, fallback, err instanceof Error ? err.message : String(err))
}

function resolveKey (msg: CoseSign1, options: VerifyOptions): { key?: TrustedKey, code?: DccErrorCode, message?: string } {
  const kid = msg.kid !== undefined ? Buffer.from(msg.kid).toString('base64') : undefined
  if (options.certificate !== undefined) {
    const cert = options.certificate instanceof X509Certificate ? options.certificate : parseCertificate(options.certificate)
    const certKid = computeKid(cert.raw).toString('base64')
    if (kid !== undefined && kid !== certKid) {
      return { code: 'DCC_UNKNOWN_KID', message: `kid ${kid} does not match the given certificate (kid ${certKid})` }
    }
    return { key: toTrustedKey(cert, certKid) }
  }
  if (options.trustStore === undefined) return { code: 'DCC_UNKNOWN_KID', message: 'no trusted certificate given' }
  if (kid === undefined) return { code: 'DCC_UNKNOWN_KID', message: 'message has no kid' }
  const candidates = options.trustStore.get(kid)
  if (candidates.length === 0) return { code: 'DCC_UNKNOWN_KID', message: `kid ${kid} is not in the trust list` }
  // kids are 8 bytes and may collide (hcert §3.3.1): try each certificate under that kid.
  for (const c of candidates) if (c.alg === msg.alg && verifyCoseSign1(msg, c.alg, c.publicKey)) return { key: c }
  return { code: 'DCC_BAD_SIGNATURE', message: 'signature does not verify with the trusted certificate(s) for this kid' }
}

export function verifyHc1 (input: unknown, options: VerifyOptions = {}): VerifyResult {
  const result: VerifyResult = { valid: false }
  if (typeof input !== 'string') return fail(result, 'prefix', 'DCC_BAD_PREFIX', 'input is not a string')
  let text: string
  try { text = unprefix(input.trim()) } catch (err) { return failWith(result, 'prefix', err, 'DCC_BAD_PREFIX') }

  let compressed: Uint8Array
  try { compressed = base45Decode(text) } catch (err) { return failWith(result, 'base45', err, 'DCC_BAD_BASE45') }

  let cose: Uint8Array
  try { cose = decompress(compressed) } catch (err) { return failWith(result, 'zlib', err, 'DCC_BAD_ZLIB') }

  let msg: CoseSign1
  try { msg = decodeCoseSign1(cose) } catch (err) { return failWith(result, 'cose', err, 'DCC_BAD_COSE') }
  result.header = { alg: msg.alg, algId: msg.algId, kid: msg.kid !== undefined ? Buffer.from(msg.kid).toString('base64') : undefined }

  if (msg.alg === undefined) {
    return fail(result, 'signature', 'DCC_UNSUPPORTED_ALG', `unsupported or missing alg ${String(msg.algId)}: ES256 (-7) or PS256 (-37) expected`)
  }
  try {
    const resolved = resolveKey(msg, options)
    if (resolved.key === undefined) return fail(result, 'signature', resolved.code!, resolved.message!)
    if (options.certificate !== undefined) {
      if (resolved.key.alg !== msg.alg) return fail(result, 'signature', 'DCC_BAD_SIGNATURE', `alg ${msg.alg} does not match the certificate's ${resolved.key.alg} key`)
      if (!verifyCoseSign1(msg, msg.alg, resolved.key.publicKey)) return fail(result, 'signature', 'DCC_BAD_SIGNATURE', 'signature does not verify with the given certificate')
    }
  } catch (err) {
    return failWith(result, 'signature', err, 'DCC_BAD_SIGNATURE')
  }

  let claims: ReturnType<typeof decodeCwt>
  try { claims = decodeCwt(msg.payload) } catch (err) { return failWith(result, 'cwt', err, 'DCC_BAD_CWT') }
  result.claims = { iss: claims.iss, iat: claims.iat, exp: claims.exp }
  result.payload = claims.payload

  if (options.schema !== false) {
    const outcome = validateDccPayload(claims.payload)
    if (!outcome.valid) {
      result.schemaErrors = outcome.errors
      return fail(result, 'schema', 'DCC_SCHEMA_INVALID', outcome.errors.slice(0, 5).join('; '))
    }
  }

  const nowSec = (options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime()) / 1000
  const skew = options.clockSkewSeconds ?? 0
  if (claims.exp === undefined) return fail(result, 'expiry', 'DCC_EXPIRED', 'no exp claim')
  if (nowSec > claims.exp + skew) return fail(result, 'expiry', 'DCC_EXPIRED', `expired at ${new Date(claims.exp * 1000).toISOString()}`)
  if (claims.iat !== undefined && nowSec + skew < claims.iat) {
    return fail(result, 'expiry', 'DCC_NOT_YET_VALID', `issued at ${new Date(claims.iat * 1000).toISOString()}, after the validation clock`)
  }
  result.valid = true
  return result
}
