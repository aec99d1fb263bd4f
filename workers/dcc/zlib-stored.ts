/**
 * The zlib stream of an HC1 (hcert spec §3.3.4: the CWT "SHALL be compressed using ZLIB ([RFC1950]) and the
 * Deflate compression mechanism in the format defined in [RFC1951]"), written as Deflate *stored* blocks
 * (RFC 1951 §3.2.4, BTYPE 00) in plain JS.
 *
 * Why not node:zlib: every deflateSync call creates and tears down a native zlib handle (≈256 KB of window
 * and hash state for a 400-byte input), which cost ~29 µs per certificate, more than the ES256 signature;
 * fflate's zlibSync measured ~60 µs (it allocates its tables per call). Why stored blocks: a signed COSE_Sign1
 * is mostly incompressible (64 random signature bytes, a random UVCI, short distinct strings); measured over
 * 500 test certificates, level-9 deflate gave 392.7 bytes on average against 395.7 for stored blocks from
 * 384.7 bytes of COSE, i.e. 3 bytes (≈4 Base45 characters) for ~25 µs of CPU each. Every RFC 1950 inflater
 * (all DCC verifier apps, node's inflateSync in verify.ts) reads stored blocks: they are part of the format.
 */

/** RFC 1950 §2.2: CMF 0x78 (CM 8 = deflate, CINFO 7 = 32 K window), FLG 0x01 (FLEVEL 0 "fastest", no
 * dictionary, FCHECK making CMF·256 + FLG a multiple of 31). */
const CMF = 0x78
const FLG = 0x01
/** RFC 1951 §3.2.4: a stored block holds at most 65,535 bytes */
const MAX_STORED = 0xffff
/** RFC 1950 §8.2: Adler-32 modulus; NMAX (zlib's adler32.c) is the most bytes summed before b could pass
 * 2^32, so the reduction runs once per 5,552 bytes and the sums stay small integers. */
const ADLER_MOD = 65521
const NMAX = 5552

/** RFC 1950 §8.2 Adler-32 of bytes[start, end) */
export function adler32 (bytes: Uint8Array, start = 0, end = bytes.length): number {
  let a = 1
  let b = 0
  let i = start
  while (i < end) {
    const stop = Math.min(end, i + NMAX)
    for (; i < stop; i++) {
      a += bytes[i]!
      b += a
    }
    a %= ADLER_MOD
    b %= ADLER_MOD
  }
  return ((b << 16) | a) >>> 0
}

/** Size of the zlib stream zlibStoredInto writes for `length` input bytes. */
export function zlibStoredLength (length: number): number {
  const blocks = Math.max(1, Math.ceil(length / MAX_STORED))
  return 2 + blocks * 5 + length + 4
}

/** Write the zlib stream of `data` at out[offset…]; returns the offset past it. `out` must have room
 * for zlibStoredLength(data.length) bytes. */
export function zlibStoredInto (data: Uint8Array, out: Uint8Array, offset: number): number {
  let o = offset
  out[o++] = CMF
  out[o++] = FLG
  let i = 0
  do {
    const n = Math.min(MAX_STORED, data.length - i)
    // header bits: BFINAL (1 on the last block), BTYPE 00; the rest of the byte is padding (§3.2.4)
    out[o++] = i + n === data.length ? 1 : 0
    out[o++] = n & 0xff
    out[o++] = n >>> 8
    out[o++] = ~n & 0xff
    out[o++] = (~n >>> 8) & 0xff
    out.set(data.subarray(i, i + n), o)
    o += n
    i += n
  } while (i < data.length)
  const sum = adler32(data)
  out[o++] = sum >>> 24
  out[o++] = (sum >>> 16) & 0xff
  out[o++] = (sum >>> 8) & 0xff
  out[o++] = sum & 0xff
  return o
}

/** The zlib stream of `data`, as a new Buffer. */
export function zlibStored (data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(zlibStoredLength(data.length))
  zlibStoredInto(data, out, 0)
  return out
}
