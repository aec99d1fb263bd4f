/**
 * Pseudonym = keyed BLAKE2b-256 of the identity key (DESIGN.md "Privacy and security"): libsodium
 * crypto_generichash with a secret key. Without the key nobody can recompute a pseudonym from a known
 * identity (a plain hash of name + birth date would be reversed by enumeration); with it, the same
 * person gets the same pseudonym across labs and days, so public-health data can be linked.
 *
 * Pure: the key is passed in (it lives outside the databases and rotates, with a key id kept by the
 * caller). libsodium is WebAssembly and must be awaited once: call `await initSodium()` before the first
 * `pseudonymOf` (a piscina worker does it at module load).
 */
import { sodium, genericHashHex } from '../sodium.ts'
import { identityKey } from './identity.ts'
import type { PatientIdentity } from '../model/canonical.ts'

/** 32 bytes = BLAKE2b-256, 64 hex characters. */
export const PSEUDONYM_BYTES = 32

let ready = false
let readyPromise: Promise<void> | undefined

/** Resolve once libsodium is initialised; idempotent, cheap after the first call. */
export function initSodium(): Promise<void> {
  readyPromise ??= sodium.ready.then(() => {
    ready = true
  })
  return readyPromise
}

/**
 * Lowercase hex pseudonym of an identity key (see identity.ts) under `key`.
 * The key must be between crypto_generichash_KEYBYTES_MIN (16) and _MAX (64) bytes; 32 is recommended.
 */
export function pseudonymOf(identity: string, key: Uint8Array): string {
  if (!ready) throw new Error('pseudonymOf: libsodium is not initialised; await initSodium() first')
  if (key.length < sodium.crypto_generichash_KEYBYTES_MIN || key.length > sodium.crypto_generichash_KEYBYTES_MAX) {
    throw new RangeError(
      `pseudonym key must be ${sodium.crypto_generichash_KEYBYTES_MIN}..${sodium.crypto_generichash_KEYBYTES_MAX} bytes`,
    )
  }
  // the same BLAKE2b as sodium.crypto_generichash(…, 'hex'), without its per-call heap allocations (sodium.ts)
  return genericHashHex(PSEUDONYM_BYTES, identity, key)
}

/** Pseudonym of a patient: keyed hash of identityKey(patient). */
export function pseudonymOfPatient(
  patient: Pick<PatientIdentity, 'ins' | 'family' | 'given' | 'birthDate' | 'sex'>,
  key: Uint8Array,
): string {
  return pseudonymOf(identityKey(patient), key)
}
