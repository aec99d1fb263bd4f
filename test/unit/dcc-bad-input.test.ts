// Bad input gives a named failed step, never an exception (issue 5 "Bad input"; DESIGN.md "Bad input
// never crashes a process").
import t from 'tap'
import { deflateSync } from 'node:zlib'
import { coseSign1 } from '../../workers/dcc/cose.ts'
import { encodeCwt } from '../../workers/dcc/cwt.ts'
import { encodeHc1, base45Encode, HC1_PREFIX } from '../../workers/dcc/hc1.ts'
import { issueTestCertificate, signPayload } from '../../workers/dcc/issue.ts'
import { generateDevSigner } from '../../workers/dcc/keys.ts'
import { cborEncode } from '../../workers/dcc/cbor.ts'
import { verifyHc1, TrustStore } from '../../workers/dcc/verify.ts'
import { sampleResult } from '../fixtures/dcc/sample-result.ts'

const nowMs = Date.parse('2026-11-24T09:05:00Z')
const { signer } = await generateDevSigner({ notBefore: new Date('2026-01-01T00:00:00Z') })
const { signer: other } = await generateDevSigner({ notBefore: new Date('2026-01-01T00:00:00Z') })
const trustStore = new TrustStore([signer.certificate])
const out = issueTestCertificate(sampleResult(), { issuer: 'Ministère de la Santé', signer, nowMs })
if (!out.eligible) throw new Error('expected eligible')
const good = out.hc1
const opts = { trustStore, now: nowMs }

t.equal(verifyHc1(good, opts).valid, true, 'the unmodified certificate verifies')

t.test('wrong prefix', async t => {
  t.match(verifyHc1(good.replace('HC1:', 'HC2:'), opts), { valid: false, failedStep: 'prefix', error: { code: 'DCC_BAD_PREFIX', message: /HC2:/ } })
  t.match(verifyHc1(good.slice(4), opts), { valid: false, failedStep: 'prefix' })
  t.match(verifyHc1('', opts), { valid: false, failedStep: 'prefix' })
  t.match(verifyHc1(42, opts), { valid: false, failedStep: 'prefix' })
  t.match(verifyHc1(null, opts), { valid: false, failedStep: 'prefix' })
})

t.test('corrupted base45', async t => {
  t.match(verifyHc1(good.slice(0, 10) + 'a' + good.slice(11), opts), { failedStep: 'base45', error: { code: 'DCC_BAD_BASE45' } })
  t.match(verifyHc1(HC1_PREFIX + 'GGW', opts), { failedStep: 'base45' }, 'triplet above 65535 (RFC 9285 §4.2)')
  // a length of 3n+1 can never be Base45 (RFC 9285 §4.2)
  const body = good.slice(4)
  const cut = body.length % 3 === 0 ? 2 : body.length % 3 === 2 ? 1 : 3
  t.match(verifyHc1(HC1_PREFIX + body.slice(0, body.length - cut), opts), { failedStep: 'base45' })
})

t.test('truncated', async t => {
  // cut whole Base45 triplets: still Base45, but the zlib stream ends early
  const body = good.slice(4)
  const whole = body.length - (body.length % 3)
  t.match(verifyHc1(HC1_PREFIX + body.slice(0, whole - 30), opts), { valid: false, failedStep: 'zlib', error: { code: 'DCC_BAD_ZLIB' } })
  t.match(verifyHc1(HC1_PREFIX + body.slice(0, 3), opts), { valid: false, failedStep: 'zlib' })
  t.match(verifyHc1(HC1_PREFIX, opts), { valid: false, failedStep: 'zlib' })
})

t.test('not COSE / not a CWT', async t => {
  t.match(verifyHc1(encodeHc1(cborEncode({ hello: 'world' })), opts), { failedStep: 'cose', error: { code: 'DCC_BAD_COSE' } })
  t.match(verifyHc1(encodeHc1(Buffer.from([0xff, 0x00, 0x01])), opts), { failedStep: 'cose' })
  const notCwt = coseSign1(cborEncode(['not', 'a', 'map']), signer)
  t.match(verifyHc1(encodeHc1(notCwt), opts), { failedStep: 'cwt', error: { code: 'DCC_BAD_CWT' } })
  const noHcert = coseSign1(cborEncode(new Map([[1, 'FR']])), signer)
  t.match(verifyHc1(encodeHc1(noHcert), opts), { failedStep: 'cwt' })
})

t.test('wrong key', async t => {
  // kid not in the trust list
  t.match(verifyHc1(good, { trustStore: new TrustStore([other.certificate]), now: nowMs }), { failedStep: 'signature', error: { code: 'DCC_UNKNOWN_KID' } })
  // the given certificate is not the signer's
  t.match(verifyHc1(good, { certificate: other.certificate, now: nowMs }), { failedStep: 'signature', error: { code: 'DCC_UNKNOWN_KID' } })
  // right kid, signed by another key
  const forged = encodeHc1(coseSign1(encodeCwt({ iss: 'FR', iat: 1, exp: 2e9, payload: out.payload }), { alg: 'ES256', kid: signer.kid, privateKey: other.privateKey }))
  t.match(verifyHc1(forged, opts), { failedStep: 'signature', error: { code: 'DCC_BAD_SIGNATURE' } })
  t.match(verifyHc1(forged, { certificate: signer.certificate, now: nowMs }), { failedStep: 'signature', error: { code: 'DCC_BAD_SIGNATURE' } })
  // no trust at all
  t.match(verifyHc1(good, { now: nowMs }), { failedStep: 'signature' })
})

t.test('tampered payload under a valid signature layout', async t => {
  const cose = coseSign1(encodeCwt({ iss: 'FR', iat: 1, exp: 2e9, payload: out.payload }), signer)
  const flipped = Buffer.from(cose)
  flipped[flipped.length - 80]! ^= 0x01 // inside the CWT payload
  t.match(verifyHc1(HC1_PREFIX + base45Encode(deflateSync(flipped)), opts), { failedStep: 'signature' })
})

t.test('expired and not yet valid', async t => {
  t.match(verifyHc1(good, { trustStore, now: (out.exp + 1) * 1000 }), { valid: false, failedStep: 'expiry', error: { code: 'DCC_EXPIRED' } })
  t.match(verifyHc1(good, { trustStore, now: (out.iat - 60) * 1000 }), { valid: false, failedStep: 'expiry', error: { code: 'DCC_NOT_YET_VALID' } })
  t.match(verifyHc1(good, { trustStore, now: (out.exp + 1) * 1000, clockSkewSeconds: 5 }), { valid: true })
  const noExp = encodeHc1(coseSign1(encodeCwt({ iss: 'FR', iat: 1, payload: out.payload }), signer))
  t.match(verifyHc1(noExp, opts), { failedStep: 'expiry' })
})

t.test('schema-invalid payload', async t => {
  const bad = { ...out.payload, dob: 'yesterday', nam: { fn: 'x' } }
  const hc1 = signPayload(bad, { iss: 'FR', iat: Math.floor(nowMs / 1000), exp: out.exp }, signer)
  const v = verifyHc1(hc1, opts)
  t.match(v, { valid: false, failedStep: 'schema', error: { code: 'DCC_SCHEMA_INVALID' } })
  t.ok(v.schemaErrors!.some(e => e.startsWith('/dob')), v.schemaErrors!.join('; '))
  t.same(v.payload, bad, 'the decoded payload is still returned for display')
  t.match(verifyHc1(hc1, { ...opts, schema: false }), { valid: true })
})

t.test('random garbage never throws', async t => {
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed }
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
  for (let i = 0; i < 300; i++) {
    let s = 'HC1:'
    const len = rnd() % 200
    for (let j = 0; j < len; j++) s += alphabet[rnd() % alphabet.length]
    const v = verifyHc1(s, opts)
    if (v.valid || v.failedStep === undefined) { t.fail(`unexpected verdict for ${s}`); return }
  }
  // every prefix of a valid certificate fails somewhere, but never throws
  for (let n = 0; n < good.length; n += 7) t.equal(verifyHc1(good.slice(0, n), opts).valid, false)
})
