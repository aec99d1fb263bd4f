/**
 * The transport encoding of a signed DCC (hcert spec §3.3.3 "Transport Encoding", §3.3.4 "Compression"):
 *   COSE bytes → zlib (RFC 1950) → Base45 (RFC 9285) → "HC1:" prefix (context identifier, spec §3.4).
 */
import { inflateSync } from 'node:zlib'
import { decode as b45decode } from '@digitalbazaar/base45'
import { base45EncodeInto, base45Length } from './base45-encode.ts'
import { DccError } from './errors.ts'
import { zlibStored, zlibStoredInto, zlibStoredLength } from './zlib-stored.ts'

export const HC1_PREFIX = 'HC1:'
/** QR version 40 alphanumeric holds 4,296 characters; anything that inflates past this is not a DCC. */
const MAX_INFLATED = 256 * 1024

export function base45Encode (bytes: Uint8Array): string {
  const out = Buffer.allocUnsafe(base45Length(bytes.length))
  return out.toString('latin1', 0, base45EncodeInto(bytes, 0, bytes.length, out, 0))
}

/** RFC 9285 §4.2 decoding; throws DccError DCC_BAD_BASE45 on bad characters, length or values. */
export function base45Decode (text: string): Uint8Array {
  try {
    return b45decode(text)
  } catch (err) {
    throw new DccError('DCC_BAD_BASE45', `not RFC 9285 Base45: ${(err as Error).message}`, { cause: err })
  }
}

/** hcert §3.3.4: a zlib stream of stored Deflate blocks (zlib-stored.ts says why not node:zlib). */
export function compress (bytes: Uint8Array): Buffer {
  return zlibStored(bytes)
}

export function decompress (bytes: Uint8Array): Buffer {
  try {
    return inflateSync(bytes, { maxOutputLength: MAX_INFLATED })
  } catch (err) {
    throw new DccError('DCC_BAD_ZLIB', `not zlib data: ${(err as Error).message}`, { cause: err })
  }
}

/** One scratch buffer per thread for the zlib bytes and the HC1 characters: the string is the only allocation. */
let scratch = Buffer.allocUnsafe(4096)

/** COSE_Sign1 bytes → "HC1:…" */
export function encodeHc1 (cose: Uint8Array): string {
  const zlen = zlibStoredLength(cose.length)
  const textLength = HC1_PREFIX.length + base45Length(zlen)
  // text at the start, the zlib stream right after it: the encoder never writes past what it has read
  if (scratch.length < textLength + zlen) scratch = Buffer.allocUnsafe(2 * (textLength + zlen))
  zlibStoredInto(cose, scratch, textLength)
  scratch.write(HC1_PREFIX, 0, 'latin1')
  base45EncodeInto(scratch, textLength, textLength + zlen, scratch, HC1_PREFIX.length)
  return scratch.toString('latin1', 0, textLength)
}

/** "HC1:…" → Base45 text; throws DccError DCC_BAD_PREFIX when the context identifier is not HC1. */
export function unprefix (text: string): string {
  if (!text.startsWith(HC1_PREFIX)) {
    const seen = /^[A-Z0-9]{2,4}:/.exec(text)?.[0]
    throw new DccError('DCC_BAD_PREFIX', seen !== undefined ? `unsupported context identifier ${seen}, ${HC1_PREFIX} expected` : `missing ${HC1_PREFIX} prefix`)
  }
  return text.slice(HC1_PREFIX.length)
}
