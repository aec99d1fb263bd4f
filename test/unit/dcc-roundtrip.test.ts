// Issue → verify round trip: what we sign verifies with our verifier and validates against the official
// schema (issue 5, "Tests and figures").
import t from 'tap'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { generateDevSigner, computeKid, EKU_TEST_ISSUANCE, loadSigner } from '../../workers/dcc/keys.ts'
import { issueTestCertificate, testCertificateExpiry } from '../../workers/dcc/issue.ts'
import { buildTestPayload } from '../../workers/dcc/payload.ts'
import { verifyHc1, TrustStore } from '../../workers/dcc/verify.ts'
import { decodeCoseSign1 } from '../../workers/dcc/cose.ts'
import { base45Decode, decompress, unprefix } from '../../workers/dcc/hc1.ts'
import { hc1ToPng, hc1ToSvg } from '../../workers/dcc/qr.ts'
import { isValidUvciChecksum } from '../../workers/dcc/uvci.ts'
import { sampleResult } from '../fixtures/dcc/sample-result.ts'

// The fixture copy of the official schema, compiled independently of workers/dcc/schema.ts.
const officialSchema = JSON.parse(readFileSync(new URL('../fixtures/dcc/DCC.combined-schema.json', import.meta.url), 'utf8'))
const ajv = new Ajv2020({ allErrors: true, strict: false })
;(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv)
const officialValidate = ajv.compile(officialSchema)

const { signer } = await generateDevSigner({ notBefore: new Date('2026-01-01T00:00:00Z'), validityDays: 730 })
const trustStore = new TrustStore([signer.certificate])
const nowMs = Date.parse('2026-11-24T09:05:00Z')
const issuer = 'Ministère des Solidarités et de la Santé'

t.test('antigen negative: issue then verify', async t => {
  const out = issueTestCertificate(sampleResult(), { issuer, testingCentre: 'Laboratoire des Lilas', signer, nowMs })
  if (!out.eligible) throw new Error('expected eligible')
  t.match(out.hc1, /^HC1:[0-9A-Z $%*+\-./:]+$/)
  t.ok(isValidUvciChecksum(out.ci), 'ci carries a valid Luhn mod N check char')
  t.ok(officialValidate(out.payload), `payload valid against the official schema ${JSON.stringify(officialValidate.errors)}`)
  t.same(out.payload, {
    ver: '1.3.0',
    nam: { fn: 'Dupont-Lefèvre', fnt: 'DUPONT<LEFEVRE', gn: 'Marie Anne', gnt: 'MARIE<ANNE' },
    dob: '1984-03-12',
    t: [{ tg: '840539006', tt: 'LP217198-3', ma: '1232', sc: '2026-11-24T07:30:00Z', tr: '260415000', tc: 'Laboratoire des Lilas', co: 'FR', is: issuer, ci: out.ci }]
  })
  const v = verifyHc1(out.hc1, { trustStore, now: nowMs })
  t.equal(v.valid, true, JSON.stringify(v.error))
  t.equal(v.failedStep, undefined)
  t.same(v.payload, out.payload)
  t.same(v.claims, { iss: 'FR', iat: Math.floor(nowMs / 1000), exp: out.exp })
  t.equal(v.header?.kid, signer.kid.toString('base64'))
  t.equal(v.header?.alg, 'ES256')
  t.equal(out.exp, Math.floor((Date.parse('2026-11-24T07:30:00Z') + 72 * 3600_000) / 1000), 'exp = sample time + 72 h')
})

t.test('COSE structure: tag 18, protected {1: -7, 4: kid}, kid = SHA-256(DER)[0..8], 64-byte r||s', async t => {
  const out = issueTestCertificate(sampleResult({ testType: 'naat', loinc: '94500-6', result: '260373001', device: undefined }), { issuer, signer, nowMs })
  if (!out.eligible) throw new Error('expected eligible')
  const msg = decodeCoseSign1(decompress(base45Decode(unprefix(out.hc1))))
  t.equal(msg.protectedHeader.get(1), -7)
  t.same(Buffer.from(msg.protectedHeader.get(4) as Uint8Array), computeKid(signer.certificateDer))
  t.equal(signer.kid.length, 8)
  t.equal(msg.signature.length, 64, 'ES256 signature in IEEE P1363 form (RFC 8152 §8.1)')
  t.equal(msg.unprotectedHeader.size, 0)
  t.equal(out.payload.t[0].tt, 'LP6464-4')
  t.equal(out.payload.t[0].tr, '260373001')
  t.notOk('ma' in out.payload.t[0], 'no device for NAAT')
  t.ok(officialValidate(out.payload))
})

t.test('PS256 signer round trip', async t => {
  // node:crypto cannot write certificates and keys.ts only makes ES256 dev signers: build an RSA-PSS
  // key + self-signed certificate with @peculiar/x509 here (hcert §3.3.2 PS256, RFC 8230 §2).
  await import('reflect-metadata')
  const x509 = await import('@peculiar/x509')
  const { webcrypto } = await import('node:crypto')
  const crypto = webcrypto as unknown as Crypto
  x509.cryptoProvider.set(crypto)
  const alg = { name: 'RSA-PSS', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048, saltLength: 32 }
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=PS256 test', notBefore: new Date('2026-01-01'), notAfter: new Date('2027-01-01'), signingAlgorithm: alg, keys
  }, crypto)
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64')
  const rsa = loadSigner({ privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`, certificatePem: cert.toString('pem') })
  t.equal(rsa.alg, 'PS256')
  const out = issueTestCertificate(sampleResult(), { issuer, signer: rsa, nowMs })
  if (!out.eligible) throw new Error('expected eligible')
  const v = verifyHc1(out.hc1, { trustStore: new TrustStore([rsa.certificate]), now: nowMs })
  t.equal(v.valid, true, JSON.stringify(v.error))
  t.equal(v.header?.algId, -37)
})

t.test('dev DSC carries the DCC test-issuance extended key usage', async t => {
  t.same(signer.certificate.keyUsage, [EKU_TEST_ISSUANCE])
  t.ok(signer.certificate.checkPrivateKey(signer.privateKey))
})

t.test('loadSigner rejects a key that does not match the certificate', async t => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  t.throws(() => loadSigner({ privateKeyPem: other, certificatePem: signer.certificate.toString() }), { code: 'DCC_BAD_KEY' })
  t.throws(() => loadSigner({ privateKeyPem: 'nope', certificatePem: signer.certificate.toString() }), { code: 'DCC_BAD_KEY' })
  t.ok(new X509Certificate(signer.certificateDer))
})

t.test('exp never goes beyond the signing certificate', async t => {
  t.equal(testCertificateExpiry(Date.parse('2026-11-24T00:00:00Z'), Date.parse('2026-11-25T00:00:00Z')), Date.parse('2026-11-25T00:00:00Z') / 1000)
  t.equal(testCertificateExpiry(0, Number.MAX_SAFE_INTEGER, 24), 86400)
})

t.test('results that get no DCC say why', async t => {
  const opts = { issuer, uvci: 'URN:UVCI:01:FR:X#1' }
  t.match(buildTestPayload(sampleResult({ testType: 'serology', result: '260373001', value: 12.5, unit: 'AU/mL' }), opts), { eligible: false, reason: 'SEROLOGY' })
  t.match(buildTestPayload(sampleResult({ result: '419984006' }), opts), { eligible: false, reason: 'INCONCLUSIVE' })
  t.match(buildTestPayload(sampleResult({ status: 'cancelled' }), opts), { eligible: false, reason: 'CANCELLED' })
  t.match(issueTestCertificate(sampleResult({ testType: 'serology' }), { issuer, signer }), { eligible: false, reason: 'SEROLOGY' })
  t.match(buildTestPayload(sampleResult({ status: 'corrected' }), opts), { eligible: true })
})

t.test('unknown RAT device: ma omitted with a warning; empty given names: gn/gnt omitted', async t => {
  const out = buildTestPayload(sampleResult({ device: '999999', patient: { family: "N'Diaye", given: [], birthDate: '1990-01-01', sex: 'M' } }), { issuer, uvci: 'URN:UVCI:01:FR:ABC#1' })
  if (!out.eligible) throw new Error('expected eligible')
  t.notOk('ma' in out.payload.t[0])
  t.match(out.warnings, [/device 999999/])
  t.same(out.payload.nam, { fn: "N'Diaye", fnt: 'NDIAYE' })
  t.ok(officialValidate(out.payload))
})

t.test('QR code: PNG and SVG, alphanumeric, ECC Q', async t => {
  const out = issueTestCertificate(sampleResult(), { issuer, signer, nowMs })
  if (!out.eligible) throw new Error('expected eligible')
  const png = await hc1ToPng(out.hc1)
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature')
  const svg = await hc1ToSvg(out.hc1)
  t.match(svg, /^<svg [^>]*viewBox/)
  const QRCode = (await import('qrcode')).default
  const qr = QRCode.create([{ data: out.hc1, mode: 'alphanumeric' }], { errorCorrectionLevel: 'Q' })
  t.equal(qr.segments.length, 1)
  t.equal(qr.segments[0]!.mode.id, 'Alphanumeric')
  t.equal(qr.errorCorrectionLevel.bit, 3, 'Q')
})
