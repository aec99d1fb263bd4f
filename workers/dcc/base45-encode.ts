/**
 * RFC 9285 §4 Base45 encoding, written into a byte buffer (the alphabet is ASCII) so that an HC1 string is
 * made with one latin1 decode instead of three string concatenations per byte pair. @digitalbazaar/base45
 * (still used for decoding, hc1.ts) measured ~12 µs per 400-byte certificate; this ~1 µs.
 */

/** RFC 9285 §4.2, table 1 */
const ALPHABET = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:', 'latin1')

/** Characters Base45 makes of `length` bytes: 3 per pair, 2 for a trailing byte (RFC 9285 §4). */
export function base45Length (length: number): number {
  return Math.floor(length / 2) * 3 + (length % 2) * 2
}

/** Write the Base45 characters of bytes[start, end) at out[offset…] (ASCII); returns the offset past them. */
export function base45EncodeInto (bytes: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): number {
  let o = offset
  let i = start
  for (; i + 1 < end; i += 2) {
    // RFC 9285 §4: n = a·256 + b = c + d·45 + e·45², written c d e
    let n = (bytes[i]! << 8) | bytes[i + 1]!
    const e = (n / 2025) | 0
    n -= e * 2025
    const d = (n / 45) | 0
    out[o++] = ALPHABET[n - d * 45]!
    out[o++] = ALPHABET[d]!
    out[o++] = ALPHABET[e]!
  }
  if (i < end) {
    // a trailing byte: n = a, written c d
    const n = bytes[i]!
    const d = (n / 45) | 0
    out[o++] = ALPHABET[n - d * 45]!
    out[o++] = ALPHABET[d]!
  }
  return o
}
