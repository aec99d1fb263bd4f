// sign-batch.ts as a function and as a piscina task: every HC1 verifies, order is kept, the key is parsed
// once per worker.
import t from 'tap'
import { Piscina } from 'piscina'
import { generateDevSigner } from '../../workers/dcc/keys.ts'
import { buildTestPayload } from '../../workers/dcc/payload.ts'
import { signBatch, signerFor, type SignBatchTask } from '../../workers/dcc/sign-batch.ts'
import { makeUvci } from '../../workers/dcc/uvci.ts'
import { verifyHc1, TrustStore } from '../../workers/dcc/verify.ts'
import { sampleResult } from '../fixtures/dcc/sample-result.ts'

const nowMs = Date.parse('2026-11-24T09:05:00Z')
const { signer, material } = await generateDevSigner({ notBefore: new Date('2026-01-01T00:00:00Z') })
const trustStore = new TrustStore([signer.certificate])
const iat = Math.floor(nowMs / 1000)

function task (n: number): SignBatchTask {
  const items = Array.from({ length: n }, (_, i) => {
    const built = buildTestPayload(sampleResult({ accession: `A-${i}`, patient: { family: `Nom${'ABCDEFGHIJ'[i % 10]}`, given: ['Léa'], birthDate: '2001-02-03', sex: 'F' } }), { issuer: 'Ministère de la Santé', uvci: makeUvci() })
    if (!built.eligible) throw new Error('expected eligible')
    return { payload: built.payload, iat, exp: iat + 3600 * (i + 1) }
  })
  return { signer: material, iss: 'FR', items }
}

t.test('signBatch in-process', async t => {
  const input = task(25)
  const out = signBatch(input)
  t.equal(out.kid, signer.kid.toString('base64'))
  t.equal(out.hc1.length, 25)
  out.hc1.forEach((hc1, i) => {
    const v = verifyHc1(hc1, { trustStore, now: nowMs })
    t.equal(v.valid, true)
    t.same(v.payload, input.items[i]!.payload, `item ${i} in order`)
    t.equal(v.claims?.exp, iat + 3600 * (i + 1))
  })
  t.equal(signerFor(material), signerFor(material), 'key material parsed once and cached')
  t.same(signBatch({ ...input, items: [] }).hc1, [])
})

t.test('signBatch through a piscina pool', async t => {
  const pool = new Piscina({ filename: new URL('../../workers/dcc/sign-batch.ts', import.meta.url).href, minThreads: 1, maxThreads: 2, execArgv: process.execArgv })
  t.teardown(() => pool.destroy())
  const tasks = [task(40), task(40), task(40)]
  const results = await Promise.all(tasks.map(x => pool.run(x) as Promise<{ hc1: string[] }>))
  results.forEach((r, k) => {
    t.equal(r.hc1.length, 40)
    const v = verifyHc1(r.hc1[39]!, { trustStore, now: nowMs })
    t.equal(v.valid, true)
    t.same(v.payload, tasks[k]!.items[39]!.payload)
  })
  await t.rejects(pool.run({ signer: { privateKeyPem: 'x', certificatePem: material.certificatePem }, iss: 'FR', items: [] }), { message: /not a PEM private key/ }, 'the error crosses the thread boundary by message (structured clone drops .code)')
})
