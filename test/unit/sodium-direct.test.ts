import t from 'tap'
import { randomBytes } from 'node:crypto'
import { sodiumReady, genericHashHex, secretboxView } from '../../workers/sodium.ts'

// The direct wasm calls of sodium.ts must give exactly the wrappers' bytes: the pseudonym and the content hash
// are compared with values already stored (a changed content hash would turn a resend into a correction).
const MESSAGES = [
  '',
  'INS:219015902737290',
  'T:DUPONT LEFEVRE|ZOE|1990-10-13|F',
  'Łukasz Øster — Zoé 日本 😀',
  'lone \ud800 surrogate \udc00 halves',
  'x'.repeat(40_000), // larger than the first scratch area: it grows
  '€'.repeat(20_000),
]

t.test('genericHashHex equals crypto_generichash(…, "hex") for strings and bytes, keyed or not', async (t) => {
  const sodium = await sodiumReady()
  const key = randomBytes(32)
  for (const m of MESSAGES) {
    for (const len of [16, 32, 64]) {
      t.equal(genericHashHex(len, m, null), sodium.crypto_generichash(len, m, null, 'hex'))
      t.equal(genericHashHex(len, m, key), sodium.crypto_generichash(len, m, key, 'hex'))
      const bytes = Buffer.from(m)
      t.equal(genericHashHex(len, bytes, key), sodium.crypto_generichash(len, bytes, key, 'hex'))
    }
  }
})

t.test('genericHashHex hands lengths outside 16..64 to the wrapper, which decides', async (t) => {
  const sodium = await sodiumReady()
  const outcome = (fn: () => string): string => {
    try {
      return fn()
    } catch (err) {
      return `threw ${(err as Error).message}`
    }
  }
  for (const [len, key] of [[8, null], [32, new Uint8Array(8)], [65, null]] as const) {
    t.equal(outcome(() => genericHashHex(len, 'x', key)), outcome(() => sodium.crypto_generichash(len, 'x', key, 'hex')))
  }
})

t.test('secretboxView equals crypto_secretbox_easy of the UTF-8 bytes and opens with the key', async (t) => {
  const sodium = await sodiumReady()
  const key = randomBytes(32)
  for (const m of MESSAGES) {
    const nonce = randomBytes(24)
    const box = Uint8Array.prototype.slice.call(secretboxView(m, nonce, key)) as Uint8Array
    t.same(Buffer.from(box), Buffer.from(sodium.crypto_secretbox_easy(sodium.from_string(m), nonce, key)))
    t.equal(sodium.to_string(sodium.crypto_secretbox_open_easy(box, nonce, key)), Buffer.from(m).toString('utf8'))
  }
  t.throws(() => secretboxView('x', new Uint8Array(8), key))
})
