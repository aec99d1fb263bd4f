import t from 'tap'
import { seal, unseal, sealedKeyId } from '../../workers/seal.ts'
import { sodiumReady } from '../../workers/sodium.ts'

t.test('sealed contact fields open only with their key and carry the key id', async (t) => {
  const sodium = await sodiumReady()
  const key = sodium.randombytes_buf(32)
  const sealed = seal('{"phone":"+33612345678"}', key, 'sk-1')
  t.equal(sealedKeyId(sealed), 'sk-1')
  t.notOk(Buffer.from(sealed).toString('latin1').includes('612345678'), 'the clear text is not in the sealed bytes')
  t.equal(unseal(sealed, key), '{"phone":"+33612345678"}')
  t.throws(() => unseal(sealed, sodium.randombytes_buf(32)), 'another key cannot open it')
  t.not(Buffer.from(seal('x', key, 'k')).toString('hex'), Buffer.from(seal('x', key, 'k')).toString('hex'), 'a fresh nonce every time')
})

t.test('nonces drawn from the pool are never reused, across refills of the pool', async (t) => {
  const sodium = await sodiumReady()
  const key = sodium.randombytes_buf(32)
  const seen = new Set<string>()
  // 64 KiB / 24 bytes = 2,730 nonces per pool fill: three fills and a half
  for (let i = 0; i < 10_000; i++) {
    const sealed = seal('x', key, 'k')
    seen.add(Buffer.from(sealed.subarray(2, 2 + 24)).toString('hex'))
    if (i % 2500 === 0) t.equal(unseal(sealed, key), 'x')
  }
  t.equal(seen.size, 10_000, 'ten thousand distinct nonces')
})
