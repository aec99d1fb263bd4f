/**
 * Contact fields (address, phone, e-mail) are sealed with libsodium crypto_secretbox (XSalsa20-Poly1305)
 * before they leave the worker, so PostgreSQL never holds them in clear. Layout: keyId, 0x00, nonce, box.
 */
import { randomFillSync } from 'node:crypto'
import { sodium, secretboxView } from './sodium.ts'

const NONCE_BYTES = 24 // crypto_secretbox_NONCEBYTES (XSalsa20: 192-bit nonces, safe to draw at random)

// Nonces come from the OS CSPRNG through node:crypto (libsodium-wrappers' randombytes_buf costs ~65 µs a
// call from WebAssembly), drawn from a pool filled 64 KiB at a time: one randomFillSync per 2,730 nonces
// instead of one per nonce (it was 7% of a worker thread). Each pool byte is handed out once and the pool is
// refilled before any is handed out again, so no nonce is ever reused. The pool lives in this thread's
// module instance: worker threads never share it.
const pool = new Uint8Array(64 * 1024)
let poolOffset = pool.length

function nextNonce(): Uint8Array {
  if (poolOffset + NONCE_BYTES > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const nonce = pool.subarray(poolOffset, poolOffset + NONCE_BYTES)
  poolOffset += NONCE_BYTES
  return nonce
}

const keyIdBytes = new Map<string, Uint8Array>()

export function seal(plaintext: string, key: Uint8Array, keyId: string): Uint8Array {
  const nonce = nextNonce()
  // straight into the wasm heap and out (sodium.ts secretboxView): no per-call heap allocations or JS UTF-8
  const box = secretboxView(plaintext, nonce, key)
  let id = keyIdBytes.get(keyId)
  if (!id) keyIdBytes.set(keyId, (id = sodium.from_string(keyId)))
  const out = new Uint8Array(id.length + 1 + NONCE_BYTES + box.length)
  out.set(id, 0)
  out[id.length] = 0
  // copied out of the pool now: the view is overwritten at the next refill
  out.set(nonce, id.length + 1)
  // copied out of the heap now: the view is overwritten by the next call
  out.set(box, id.length + 1 + NONCE_BYTES)
  return out
}

export function sealedKeyId(sealed: Uint8Array): string {
  const end = sealed.indexOf(0)
  if (end < 1) throw new Error('sealed value has no key id')
  return Buffer.from(sealed.subarray(0, end)).toString('utf8')
}

export function unseal(sealed: Uint8Array, key: Uint8Array): string {
  const start = sealed.indexOf(0) + 1
  const nonce = sealed.subarray(start, start + sodium.crypto_secretbox_NONCEBYTES)
  const box = sealed.subarray(start + sodium.crypto_secretbox_NONCEBYTES)
  return sodium.to_string(sodium.crypto_secretbox_open_easy(box, nonce, key))
}
