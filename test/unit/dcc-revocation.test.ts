// Revocation entries, hash type UCI (EU DCC gateway revocation batches): SHA-256 over the UTF-8 UCI, first
// 128 bits, base64. Expected value computed outside Node: printf '%s' <ci> | sha256sum, first 32 hex digits.
import t from 'tap'
import { revocationEntry, uciHash, REVOCATION_ENTRY_BYTES } from '../../workers/dcc/revocation.ts'

t.test('UCI hash and its published entry', async (t) => {
  const ci = 'URN:UVCI:01:NL:187/37512422923#Z' // the eu-dcc-schema FAQ example UVCI
  const hash = uciHash(ci)
  t.equal(hash.length, 32)
  t.equal(REVOCATION_ENTRY_BYTES, 16)
  t.equal(revocationEntry(hash), '/EfuQ/cB6R7OAv36WQbZcA==')
  t.equal(revocationEntry(hash).length, 24, 'the gateway DTO length (24 base64 characters)')
  t.not(revocationEntry(uciHash(ci.replace('#Z', '#Y'))), revocationEntry(hash))
})
