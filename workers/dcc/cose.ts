/**
 * COSE_Sign1 (RFC 8152 §4.2) as profiled by the hcert spec §3.3.1-3.3.2:
 *   COSE_Sign1 = #6.18([ protected: bstr .cbor {1 alg, 4 kid}, unprotected: {}, payload: bstr, signature: bstr ])
 * The signature covers Sig_structure (RFC 8152 §4.4) = ["Signature1", protected, external_aad h'', payload].
 * ES256 signatures are the raw r||s concatenation (RFC 8152 §8.1), hence dsaEncoding 'ieee-p1363';
 * PS256 is RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 8230 §2).
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto'
import { Tag, cborDecode, cborEncode } from './cbor.ts'
import { DccError } from './errors.ts'
import type { DccAlg } from './keys.ts'

/** RFC 8152 §3.1 header labels, §8.1 / RFC 8230 §2 algorithm ids */
export const HEADER_ALG = 1
export const HEADER_KID = 4
export const COSE_ALG_IDS: Record<DccAlg, number> = { ES256: -7, PS256: -37 }
const ALG_BY_ID = new Map<number, DccAlg>([[-7, 'ES256'], [-37, 'PS256']])
/** RFC 8152 §2: CBOR tag of COSE_Sign1; RFC 8392 §6: CWT tag that may wrap it */
export const TAG_COSE_SIGN1 = 18
export const TAG_CWT = 61

const EMPTY = new Uint8Array(0)
const EMPTY_MAP = new Map()

export interface CoseSigningKey {
  alg: DccAlg
  kid: Uint8Array
  privateKey: KeyObject
}

/** protected header bytes, cached per key: they are the same for every certificate a key signs */
const protectedCache = new WeakMap<CoseSigningKey, Buffer>()

export function protectedHeaderBytes (key: CoseSigningKey): Buffer {
  let bytes = protectedCache.get(key)
  if (bytes === undefined) {
    bytes = cborEncode(new Map<number, unknown>([[HEADER_ALG, COSE_ALG_IDS[key.alg]], [HEADER_KID, key.kid]]))
    protectedCache.set(key, bytes)
  }
  return bytes
}

/** RFC 8152 §4.4 Sig_structure for COSE_Sign1, external_aad empty */
export function sigStructure (protectedBytes: Uint8Array, payload: Uint8Array): Buffer {
  return cborEncode(['Signature1', protectedBytes, EMPTY, payload])
}

export function signRaw (alg: DccAlg, key: KeyObject, data: Uint8Array): Buffer {
  return alg === 'ES256'
    ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
}

/** Sign `payload` (the CWT bytes) into a tagged COSE_Sign1 message. */
export function coseSign1 (payload: Uint8Array, key: CoseSigningKey): Buffer {
  const prot = protectedHeaderBytes(key)
  const signature = signRaw(key.alg, key.privateKey, sigStructure(prot, payload))
  return cborEncode(new Tag([prot, EMPTY_MAP, payload, signature], TAG_COSE_SIGN1))
}

export interface CoseSign1 {
  protectedBytes: Uint8Array
  protectedHeader: Map<unknown, unknown>
  unprotectedHeader: Map<unknown, unknown>
  payload: Uint8Array
  signature: Uint8Array
  /** from the protected header (RFC 8152 §3.1: alg should be protected); undefined if absent/unknown */
  alg?: DccAlg
  algId?: number
  /** hcert §3.3.1: kid from the protected header, else from the unprotected header */
  kid?: Uint8Array
}

function isBytes (v: unknown): v is Uint8Array { return v instanceof Uint8Array }

/** Parse a (possibly tag-18 or tag-61-wrapped, or untagged) COSE_Sign1. Throws DccError DCC_BAD_COSE. */
export function decodeCoseSign1 (bytes: Uint8Array): CoseSign1 {
  let msg: unknown
  try {
    msg = cborDecode(bytes)
  } catch (err) {
    throw new DccError('DCC_BAD_COSE', 'not CBOR', { cause: err })
  }
  // Tags: CWT (61) may wrap COSE_Sign1 (18); both are optional on the wire (hcert §3.3.1).
  if (msg instanceof Tag && msg.tag === TAG_CWT) msg = msg.value
  if (msg instanceof Tag) {
    if (msg.tag !== TAG_COSE_SIGN1) throw new DccError('DCC_BAD_COSE', `unexpected CBOR tag ${msg.tag}, COSE_Sign1 (18) expected`)
    msg = msg.value
  }
  if (!Array.isArray(msg) || msg.length !== 4) throw new DccError('DCC_BAD_COSE', 'COSE_Sign1 is not a 4-element array')
  const [prot, unprot, payload, signature] = msg as unknown[]
  if (!isBytes(prot) || !isBytes(payload) || !isBytes(signature)) {
    throw new DccError('DCC_BAD_COSE', 'COSE_Sign1 protected header, payload and signature must be byte strings')
  }
  if (!(unprot instanceof Map)) throw new DccError('DCC_BAD_COSE', 'COSE_Sign1 unprotected header is not a map')
  let protectedHeader: Map<unknown, unknown> = new Map()
  if (prot.length > 0) {
    let decoded: unknown
    try { decoded = cborDecode(prot) } catch (err) {
      throw new DccError('DCC_BAD_COSE', 'protected header is not CBOR', { cause: err })
    }
    if (!(decoded instanceof Map)) throw new DccError('DCC_BAD_COSE', 'protected header is not a map')
    protectedHeader = decoded
  }
  const algId = protectedHeader.get(HEADER_ALG) ?? unprot.get(HEADER_ALG)
  const kidP = protectedHeader.get(HEADER_KID)
  const kidU = unprot.get(HEADER_KID)
  const kid = isBytes(kidP) ? kidP : isBytes(kidU) ? kidU : undefined
  return {
    protectedBytes: prot,
    protectedHeader,
    unprotectedHeader: unprot,
    payload,
    signature,
    alg: typeof algId === 'number' ? ALG_BY_ID.get(algId) : undefined,
    algId: typeof algId === 'number' ? algId : undefined,
    kid
  }
}

/** Verify the COSE_Sign1 signature with a public key. Never throws: false on any mismatch. */
export function verifyCoseSign1 (msg: CoseSign1, alg: DccAlg, publicKey: KeyObject): boolean {
  const data = sigStructure(msg.protectedBytes, msg.payload)
  try {
    return alg === 'ES256'
      ? verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, msg.signature)
      // Postel: accept any PSS salt length on verification; we sign with 32 (RFC 8230 §2).
      : verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, msg.signature)
  } catch {
    return false
  }
}
