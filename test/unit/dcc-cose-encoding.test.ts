// cose.ts writes Sig_structure and COSE_Sign1 by hand (RFC 8949 byte-string heads): the bytes must be the
// ones cbor-x writes for the same arrays, at every byte-string length boundary (23/24, 255/256,
// 65535/65536), and what it signs must verify.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Tag, cborEncode } from '../../workers/dcc/cbor.ts'
import { coseSign1, decodeCoseSign1, protectedHeaderBytes, sigStructure, verifyCoseSign1 } from '../../workers/dcc/cose.ts'
import { generateDevSigner } from '../../workers/dcc/keys.ts'

const { signer } = await generateDevSigner()
const LENGTHS = [0, 1, 23, 24, 255, 256, 400, 65_535, 65_536]

t.test('Sig_structure: same bytes as cbor-x', async t => {
  const prot = protectedHeaderBytes(signer)
  for (const n of LENGTHS) {
    const payload = randomBytes(n)
    t.same(sigStructure(prot, payload), cborEncode(['Signature1', prot, new Uint8Array(0), payload]), `payload ${n} bytes`)
    t.same(sigStructure(payload, prot), cborEncode(['Signature1', payload, new Uint8Array(0), prot]), `protected ${n} bytes`)
  }
})

t.test('COSE_Sign1: same bytes as cbor-x around the signature, and it verifies', async t => {
  const prot = protectedHeaderBytes(signer)
  for (const n of LENGTHS) {
    const payload = randomBytes(n)
    const cose = coseSign1(payload, signer)
    const msg = decodeCoseSign1(cose)
    t.same(cose, cborEncode(new Tag([prot, new Map(), payload, msg.signature], 18)), `payload ${n} bytes`)
    t.equal(msg.signature.length, 64, 'ES256 r||s')
    t.ok(verifyCoseSign1(msg, 'ES256', signer.certificate.publicKey))
  }
})
