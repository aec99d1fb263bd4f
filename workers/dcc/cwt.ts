/**
 * CBOR Web Token (RFC 8392) carrying the DCC (hcert spec §3.3.1, "CWT Structure Overview"):
 *   { 1 iss: issuing country (ISO 3166-1 alpha-2), 6 iat: issued at, 4 exp: expiry (NumericDate,
 *     seconds), -260 hcert: { 1 eu_DCC_v1: <payload> } }
 */
import { cborDecode, cborEncode, toPlain } from './cbor.ts'
import { DccError } from './errors.ts'

export const CWT_ISS = 1
export const CWT_EXP = 4
export const CWT_IAT = 6
export const CWT_HCERT = -260
export const HCERT_EU_DCC_V1 = 1

export interface CwtClaims<P = unknown> {
  iss?: string
  /** seconds since the epoch */
  iat?: number
  /** seconds since the epoch */
  exp?: number
  payload: P
}

export function encodeCwt (claims: CwtClaims): Buffer {
  const map = new Map<number, unknown>()
  if (claims.iss !== undefined) map.set(CWT_ISS, claims.iss)
  if (claims.iat !== undefined) map.set(CWT_IAT, claims.iat)
  if (claims.exp !== undefined) map.set(CWT_EXP, claims.exp)
  map.set(CWT_HCERT, new Map([[HCERT_EU_DCC_V1, claims.payload]]))
  return cborEncode(map)
}

function numericDate (value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'bigint') return Number(value)
  throw new DccError('DCC_BAD_CWT', `CWT claim ${name} is not a NumericDate`)
}

/** Decode the COSE payload as a CWT. Throws DccError DCC_BAD_CWT on any structural problem. */
export function decodeCwt (bytes: Uint8Array): CwtClaims<Record<string, unknown>> {
  let decoded: unknown
  try {
    decoded = cborDecode(bytes)
  } catch (err) {
    throw new DccError('DCC_BAD_CWT', 'COSE payload is not CBOR', { cause: err })
  }
  if (!(decoded instanceof Map)) throw new DccError('DCC_BAD_CWT', 'CWT is not a CBOR map')
  const hcert = decoded.get(CWT_HCERT)
  if (!(hcert instanceof Map)) throw new DccError('DCC_BAD_CWT', 'CWT has no hcert (-260) map')
  const dcc = hcert.get(HCERT_EU_DCC_V1)
  if (!(dcc instanceof Map)) throw new DccError('DCC_BAD_CWT', 'hcert has no eu_DCC_v1 (1) map')
  const iss = decoded.get(CWT_ISS)
  if (iss !== undefined && typeof iss !== 'string') throw new DccError('DCC_BAD_CWT', 'CWT claim iss is not a text string')
  return {
    iss,
    iat: numericDate(decoded.get(CWT_IAT), 'iat'),
    exp: numericDate(decoded.get(CWT_EXP), 'exp'),
    payload: toPlain(dcc) as Record<string, unknown>
  }
}
