/**
 * Revocation entries for issued DCCs (EU DCC revocation, eHN "Guidelines on DCC revocation" / the EU DCC
 * gateway's revocation batches), hash type UCI: SHA-256 over the certificate's UCI (`ci`, the UVCI) encoded
 * in UTF-8. A revocation batch entry carries the first 128 bits of that hash, base64 (24 characters); a
 * verifier computes the same over the `ci` it scanned and looks it up.
 */
import { createHash } from 'node:crypto'

export const REVOCATION_HASH_TYPE = 'UCI'
/** the gateway's batch entries are the first 128 bits of the hash */
export const REVOCATION_ENTRY_BYTES = 16

/** SHA-256 of the UTF-8 UCI (32 bytes; stored whole, published truncated). */
export function uciHash (ci: string): Buffer {
  return createHash('sha256').update(ci, 'utf8').digest()
}

/** The published entry: base64 of the first 128 bits of the UCI hash. */
export function revocationEntry (hash: Uint8Array): string {
  return Buffer.from(hash.subarray(0, REVOCATION_ENTRY_BYTES)).toString('base64')
}
