/**
 * Unique certificate identifiers (UVCI), eHealth Network "Guidelines on verifiable vaccination
 * certificates", Annex 2, as profiled by the eu-dcc-schema FAQ ("UVCI checksum"):
 *   URN:UVCI:01:FR:<opaque>#<check>
 * - charset of the identifier: A-Z, 0-9 and the separators '/' and ':' ('#' only before the check char);
 * - check character: Luhn mod N over the charset "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:" (N = 38,
 *   in that order), computed over the whole identifier *including* the "URN:UVCI:" prefix, appended
 *   after '#'. FAQ example: "URN:UVCI:01:NL:187/37512422923" → check 'Z'.
 */
import { DccError } from './errors.ts'
import { takeRandomBytes, RANDOM_POOL_BYTES } from '../random-pool.ts'

export const UVCI_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:'
const N = UVCI_CHARSET.length
const CODE_POINT = new Map<string, number>([...UVCI_CHARSET].map((c, i) => [c, i]))
/** Code point by UTF-16 code unit (-1 outside the charset): the check runs per certificate on the event loop. */
const CODE_BY_UNIT = new Int8Array(128).fill(-1)
for (let i = 0; i < N; i++) CODE_BY_UNIT[UVCI_CHARSET.charCodeAt(i)] = i

/** Luhn mod N check character (Luhn mod N algorithm: from the right, factors 2,1,2,…; base-N digit sum). */
export function luhnModNCheckChar (input: string): string {
  let factor = 2
  let sum = 0
  for (let i = input.length - 1; i >= 0; i--) {
    const unit = input.charCodeAt(i)
    const cp = unit < 128 ? CODE_BY_UNIT[unit]! : -1
    if (cp < 0) throw new DccError('DCC_BAD_UVCI', `character '${input[i]}' is outside the UVCI charset A-Z0-9/:`)
    let addend = factor * cp
    factor = factor === 2 ? 1 : 2
    addend = Math.floor(addend / N) + (addend % N)
    sum += addend
  }
  return UVCI_CHARSET[(N - (sum % N)) % N]!
}

/** True when `uvci` ends in '#<c>' and <c> is the Luhn mod N check char of everything before '#'. */
export function isValidUvciChecksum (uvci: string): boolean {
  const hash = uvci.length - 2
  if (hash < 1 || uvci[hash] !== '#') return false
  const body = uvci.slice(0, hash)
  for (const ch of body) if (!CODE_POINT.has(ch)) return false
  return luhnModNCheckChar(body) === uvci[hash + 1]
}

/** Crockford-style base32 alphabet minus I/L/O/U (unambiguous when read aloud), all within A-Z0-9. */
const OPAQUE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** 20 random characters of 5 bits = 100 bits: collisions are negligible, no registry round trip needed. */
export function randomOpaque (length = 20): string {
  // from the thread's pool of random bytes (random-pool.ts): the certifier builds UVCIs on the event loop,
  // where a randomBytes call per UVCI cost ~1.5 µs
  if (length > RANDOM_POOL_BYTES) throw new DccError('DCC_BAD_UVCI', `opaque length ${length} exceeds ${RANDOM_POOL_BYTES}`)
  const bytes = takeRandomBytes(length)
  let out = ''
  for (let i = 0; i < length; i++) out += OPAQUE_ALPHABET[bytes[i]! & 31]
  return out
}

/**
 * Build a UVCI `URN:UVCI:01:<country>:<opaque>#<check>` (Annex 2 option 3, opaque unique string).
 * `opaque` may contain '/' to separate components; it defaults to 100 random bits.
 */
export function makeUvci (country = 'FR', opaque: string = randomOpaque()): string {
  const body = `URN:UVCI:01:${country}:${opaque}`
  return `${body}#${luhnModNCheckChar(body)}`
}
