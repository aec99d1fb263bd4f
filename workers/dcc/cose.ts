/**
 * COSE_Sign1 (RFC 8152 §4.2) as profiled by the hcert spec §3.3.1-3.3.2:
 *   COSE_Sign1 = #6.18([ protected: bstr .cbor {1 alg, 4 kid}, unprotected: {}, payload: bstr, signature: bstr ])
 * The signature covers Sig_structure (RFC 8152 §4.4) = ["Signature1", protected, external_aad h'', payload].
 * ES256 signatures are the raw r||s concatenation (RFC 8152 §8.1), hence dsaEncoding 'ieee-p1363';
 * PS256 is RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 8230 §2).
 */
import { constants, sign, verify, type KeyObject, type SignKeyObjectInput } from 'node:crypto'
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

export interface CoseSigningKey {
  alg: DccAlg
  kid: Uint8Array
  privateKey: KeyObject
}

/** What signing with a key reuses for every certificate: the protected header bytes and the sign options. */
interface KeyCache {
  protectedBytes: Buffer
  signOptions: SignKeyObjectInput
}
const keyCache = new WeakMap<CoseSigningKey, KeyCache>()

function cached (key: CoseSigningKey): KeyCache {
  let c = keyCache.get(key)
  if (c === undefined) {
    c = {
      protectedBytes: cborEncode(new Map<number, unknown>([[HEADER_ALG, COSE_ALG_IDS[key.alg]], [HEADER_KID, key.kid]])),
      signOptions: signOptions(key.alg, key.privateKey)
    }
    keyCache.set(key, c)
  }
  return c
}

/** protected header bytes, cached per key: they are the same for every certificate a key signs */
export function protectedHeaderBytes (key: CoseSigningKey): Buffer {
  return cached(key).protectedBytes
}

/*
 * The two arrays signing writes are built by hand rather than through cbor-x (~4 µs each per certificate,
 * ~0.3 µs by hand): their shape is fixed and only byte strings vary. RFC 8949 §3.1: major type 2 (byte
 * string) head = 0x40 | length below 24, else 0x58 + 1 byte, 0x59 + 2, 0x5a + 4 bytes of length (preferred,
 * shortest form, what cbor-x writes too; test/unit/dcc-cose-encoding.test.ts compares both).
 */
function bstrHeadLength (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function writeBstr (out: Buffer, o: number, bytes: Uint8Array): number {
  const n = bytes.length
  if (n < 24) out[o++] = 0x40 | n
  else if (n < 0x100) { out[o++] = 0x58; out[o++] = n } else if (n < 0x10000) { out[o++] = 0x59; out.writeUInt16BE(n, o); o += 2 } else { out[o++] = 0x5a; out.writeUInt32BE(n, o); o += 4 }
  out.set(bytes, o)
  return o + n
}

/** array(4) "Signature1": 0x84, then text(10) 0x6a + the ASCII */
const SIG1_HEAD = Buffer.from('846a5369676e617475726531', 'hex')
/** RFC 8152 §4.2 tag 18 (0xd2) + array(4) (0x84) */
const COSE_SIGN1_HEAD = Buffer.from([0xd2, 0x84])
const EMPTY_BSTR = 0x40
const EMPTY_MAP = 0xa0

/** RFC 8152 §4.4 Sig_structure for COSE_Sign1, external_aad empty */
export function sigStructure (protectedBytes: Uint8Array, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SIG1_HEAD.length + bstrHeadLength(protectedBytes.length) + protectedBytes.length + 1 + bstrHeadLength(payload.length) + payload.length)
  SIG1_HEAD.copy(out, 0)
  let o = writeBstr(out, SIG1_HEAD.length, protectedBytes)
  out[o++] = EMPTY_BSTR
  writeBstr(out, o, payload)
  return out
}

function signOptions (alg: DccAlg, key: KeyObject): SignKeyObjectInput {
  return alg === 'ES256'
    ? { key, dsaEncoding: 'ieee-p1363' }
    : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
}

export function signRaw (alg: DccAlg, key: KeyObject, data: Uint8Array): Buffer {
  return sign('sha256', data, signOptions(alg, key))
}

/** Sign `payload` (the CWT bytes) into a tagged COSE_Sign1 message: #6.18([prot, {}, payload, signature]). */
export function coseSign1 (payload: Uint8Array, key: CoseSigningKey): Buffer {
  const c = cached(key)
  const prot = c.protectedBytes
  const signature = sign('sha256', sigStructure(prot, payload), c.signOptions)
  const out = Buffer.allocUnsafe(COSE_SIGN1_HEAD.length + bstrHeadLength(prot.length) + prot.length + 1 +
    bstrHeadLength(payload.length) + payload.length + bstrHeadLength(signature.length) + signature.length)
  COSE_SIGN1_HEAD.copy(out, 0)
  let o = writeBstr(out, COSE_SIGN1_HEAD.length, prot)
  out[o++] = EMPTY_MAP
  o = writeBstr(out, o, payload)
  writeBstr(out, o, signature)
  return out
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
