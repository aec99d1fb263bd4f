/**
 * The transport encoding of a signed DCC (hcert spec §3.3.3 "Transport Encoding", §3.3.4 "Compression"):
 *   COSE bytes → zlib (RFC 1950) → Base45 (RFC 9285) → "HC1:" prefix (context identifier, spec §3.4).
 */
import { deflateSync, inflateSync, constants } from 'node:zlib'
import { decode as b45decode, encode as b45encode } from '@digitalbazaar/base45'
import { DccError } from './errors.ts'

export const HC1_PREFIX = 'HC1:'
/** QR version 40 alphanumeric holds 4,296 characters; anything that inflates past this is not a DCC. */
const MAX_INFLATED = 256 * 1024

/** @digitalbazaar/base45 reads `input.buffer` from offset 0, so hand it an exact, unshared view. */
function exactBytes (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
}

export function base45Encode (bytes: Uint8Array): string {
  return b45encode(exactBytes(bytes))
}

/** RFC 9285 §4.2 decoding; throws DccError DCC_BAD_BASE45 on bad characters, length or values. */
export function base45Decode (text: string): Uint8Array {
  try {
    return b45decode(text)
  } catch (err) {
    throw new DccError('DCC_BAD_BASE45', `not RFC 9285 Base45: ${(err as Error).message}`, { cause: err })
  }
}

/** hcert §3.3.4: zlib with the highest compression (the QR gets smaller, signing cost dominates anyway). */
export function compress (bytes: Uint8Array): Buffer {
  return deflateSync(bytes, { level: constants.Z_BEST_COMPRESSION })
}

export function decompress (bytes: Uint8Array): Buffer {
  try {
    return inflateSync(bytes, { maxOutputLength: MAX_INFLATED })
  } catch (err) {
    throw new DccError('DCC_BAD_ZLIB', `not zlib data: ${(err as Error).message}`, { cause: err })
  }
}

/** COSE_Sign1 bytes → "HC1:…" */
export function encodeHc1 (cose: Uint8Array): string {
  return HC1_PREFIX + base45Encode(compress(cose))
}

/** "HC1:…" → Base45 text; throws DccError DCC_BAD_PREFIX when the context identifier is not HC1. */
export function unprefix (text: string): string {
  if (!text.startsWith(HC1_PREFIX)) {
    const seen = /^[A-Z0-9]{2,4}:/.exec(text)?.[0]
    throw new DccError('DCC_BAD_PREFIX', seen !== undefined ? `unsupported context identifier ${seen}, ${HC1_PREFIX} expected` : `missing ${HC1_PREFIX} prefix`)
  }
  return text.slice(HC1_PREFIX.length)
}
