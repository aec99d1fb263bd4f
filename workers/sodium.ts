/**
 * The one libsodium instance. Loaded through require because libsodium-wrappers 0.7.16's ESM entry imports
 * a ./libsodium.mjs that the npm package does not ship (ERR_MODULE_NOT_FOUND under Node's ESM loader;
 * jedisct1/libsodium.js#357, fixed in 0.8, which this project has not moved to yet).
 */
import { createRequire } from 'node:module'
import type Sodium from 'libsodium-wrappers'

const require = createRequire(import.meta.url)
export const sodium: typeof Sodium = require('libsodium-wrappers')

export async function sodiumReady(): Promise<typeof Sodium> {
  await sodium.ready
  return sodium
}

/**
 * Hot-path calls straight into libsodium's WebAssembly exports, through one scratch area of the wasm heap
 * per thread. The wrappers above allocate and free the heap for every argument, convert strings in JS
 * (to_Uint8Array, TextEncoder) and format hex in JS: for a 16- or 32-byte BLAKE2b of a few hundred bytes that
 * overhead was larger than the hash (crypto_generichash + to_Uint8Array + encode were ~6% of an ingest worker
 * thread). Here a string is written into the heap as UTF-8 by Buffer#write (native), and the digest is read as
 * hex straight off the heap. Same algorithms, same bytes: RFC 7693 BLAKE2b with the digest length and key in
 * its parameter block, XSalsa20-Poly1305 secretbox; the emscripten exports take a 64-bit length as two 32-bit
 * halves (low, high), as the wrappers themselves call them.
 */
interface SodiumWasm {
  HEAPU8: Uint8Array
  _malloc(n: number): number
  _free(ptr: number): void
  _crypto_generichash(out: number, outLen: number, msg: number, msgLenLow: number, msgLenHigh: number, key: number, keyLen: number): number
  _crypto_secretbox_easy(c: number, m: number, mLenLow: number, mLenHigh: number, nonce: number, key: number): number
}

/** out (64) + key (64) + nonce (24), then the message */
const HEAD = 160
let scratchPtr = 0
let scratchCap = 0
let heapBuffer: ArrayBufferLike | undefined
let heap: Buffer = Buffer.alloc(0)

function wasm(): SodiumWasm {
  return (sodium as unknown as { libsodium: SodiumWasm }).libsodium
}

/** the scratch area holding at least `bytes` of message after HEAD, and a Buffer view of the current heap */
function scratch(bytes: number): number {
  const lib = wasm()
  if (HEAD + bytes > scratchCap) {
    if (scratchPtr) lib._free(scratchPtr)
    scratchCap = Math.max(HEAD + bytes, 2 * scratchCap, 16 * 1024)
    scratchPtr = lib._malloc(scratchCap)
    if (scratchPtr === 0) throw new Error('libsodium: _malloc() failed')
  }
  // the heap's ArrayBuffer is replaced when wasm memory grows
  if (lib.HEAPU8.buffer !== heapBuffer) {
    heapBuffer = lib.HEAPU8.buffer
    heap = Buffer.from(heapBuffer as ArrayBuffer)
  }
  return scratchPtr
}

/** writes a string (UTF-8) or bytes after HEAD; returns their length */
function putMessage(message: string | Uint8Array): number {
  if (typeof message === 'string') {
    const p = scratch(message.length * 3) // UTF-8 takes at most 3 bytes per UTF-16 code unit
    return heap.write(message, p + HEAD, 'utf8')
  }
  const p = scratch(message.length)
  heap.set(message, p + HEAD)
  return message.length
}

/**
 * Lowercase hex BLAKE2b (crypto_generichash) of `message` (a string is hashed as its UTF-8 bytes, as the
 * wrappers do), with an optional key; identical to sodium.crypto_generichash(outLen, message, key, 'hex').
 */
export function genericHashHex(outLen: number, message: string | Uint8Array, key: Uint8Array | null): string {
  if (!(outLen >= 16 && outLen <= 64) || (key !== null && !(key.length >= 16 && key.length <= 64))) {
    return sodium.crypto_generichash(outLen, message, key, 'hex') // lets the wrapper report the misuse
  }
  const len = putMessage(message)
  const p = scratchPtr
  let keyPtr = 0
  if (key !== null) {
    heap.set(key, p + 64)
    keyPtr = p + 64
  }
  if (wasm()._crypto_generichash(p, outLen, p + HEAD, len, 0, keyPtr, key === null ? 0 : key.length) !== 0) {
    throw new Error('crypto_generichash: invalid usage')
  }
  const hex = heap.toString('hex', p, p + outLen)
  heap.fill(0, p + 64, p + 64 + (key === null ? 0 : key.length)) // no key left in the heap
  return hex
}

/**
 * crypto_secretbox_easy of a string's UTF-8 bytes (or of bytes) under a 24-byte nonce and a 32-byte key:
 * the box (MAC then ciphertext), as a view of the wasm heap valid until the next call here (copy it out).
 * Identical to sodium.crypto_secretbox_easy(sodium.from_string(message), nonce, key).
 */
export function secretboxView(message: string | Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  if (nonce.length !== 24 || key.length !== 32) throw new Error('crypto_secretbox_easy: invalid nonce or key length')
  // room for the message and, after it, its box (16 bytes longer)
  const most = typeof message === 'string' ? message.length * 3 : message.length
  scratch(2 * most + 16)
  const len = putMessage(message)
  const p = scratchPtr
  heap.set(key, p + 64)
  heap.set(nonce, p + 128)
  const box = p + HEAD + len
  const rc = wasm()._crypto_secretbox_easy(box, p + HEAD, len, 0, p + 128, p + 64)
  heap.fill(0, p + 64, p + 96) // no key left in the heap
  if (rc !== 0) throw new Error('crypto_secretbox_easy: invalid usage')
  return heap.subarray(box, box + len + 16)
}
