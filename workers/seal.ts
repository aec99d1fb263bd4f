/**
 * Contact fields (address, phone, e-mail) are sealed with libsodium crypto_secretbox (XSalsa20-Poly1305)
 * before they leave the worker, so PostgreSQL never holds them in clear. Layout: keyId, 0x00, nonce, box.
 */
import { randomFillSync } from 'node:crypto'
import { sodium } from './sodium.ts'

export function seal(plaintext: string, key: Uint8Array, keyId: string): Uint8Array {
  // the nonce comes from node:crypto (the OS CSPRNG): libsodium-wrappers' randombytes_buf costs ~65 µs a
  // call from WebAssembly, 25 times the box itself, and was the largest cost of a worker batch
  const nonce = randomFillSync(new Uint8Array(sodium.crypto_secretbox_NONCEBYTES))
  const box = sodium.crypto_secretbox_easy(sodium.from_string(plaintext), nonce, key)
  const id = sodium.from_string(keyId)
  const out = new Uint8Array(id.length + 1 + nonce.length + box.length)
  out.set(id, 0)
  out[id.length] = 0
  out.set(nonce, id.length + 1)
  out.set(box, id.length + 1 + nonce.length)
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
