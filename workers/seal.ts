/**
 * Contact fields (address, phone, e-mail) are sealed with libsodium crypto_secretbox (XSalsa20-Poly1305)
 * before they leave the worker, so PostgreSQL never holds them in clear. Layout: keyId, 0x00, nonce, box.
 */
import { sodium, secretboxView } from './sodium.ts'
import { takeRandomBytes } from './random-pool.ts'

// crypto_secretbox_NONCEBYTES (XSalsa20: 192-bit nonces, safe to draw at random). Nonces come from the OS
// CSPRNG through node:crypto (libsodium-wrappers' randombytes_buf costs ~65 µs a call from WebAssembly), from
// the thread's pool of random bytes (random-pool.ts: never reused).
const NONCE_BYTES = 24

const keyIdBytes = new Map<string, Uint8Array>()

export function seal(plaintext: string, key: Uint8Array, keyId: string): Uint8Array {
  const nonce = takeRandomBytes(NONCE_BYTES)
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
