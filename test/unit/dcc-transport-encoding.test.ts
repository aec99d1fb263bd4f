// The HC1 transport encoding written by hand (hc1.ts): Base45 per RFC 9285 (its examples, and agreement
// with @digitalbazaar/base45 on random bytes) and the stored-block zlib stream (RFC 1950/1951), which
// node's inflate must read back byte for byte, across the 65,535-byte stored-block limit too.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { inflateSync } from 'node:zlib'
import { encode as referenceBase45 } from '@digitalbazaar/base45'
import { base45Decode, base45Encode, decompress, encodeHc1, unprefix } from '../../workers/dcc/hc1.ts'
import { zlibStored, zlibStoredLength } from '../../workers/dcc/zlib-stored.ts'
import { verifyHc1 } from '../../workers/dcc/verify.ts'

t.test('Base45: RFC 9285 §4.3 examples', async t => {
  t.equal(base45Encode(Buffer.from('AB')), 'BB8')
  t.equal(base45Encode(Buffer.from('Hello!!')), '%69 VD92EX0')
  t.equal(base45Encode(Buffer.from('base-45')), 'UJCLQE7W581')
  t.equal(base45Encode(Buffer.from('ietf!')), 'QED8WEX0')
  t.equal(base45Encode(new Uint8Array(0)), '')
  t.equal(base45Encode(Buffer.from([0xff, 0xff])), 'FGW', 'the largest pair, 65535 = 30 + 13·45 + 32·45²')
})

t.test('Base45: same as @digitalbazaar/base45 on random bytes, any length, any offset', async t => {
  for (let n = 0; n < 300; n++) {
    const bytes = randomBytes(n)
    t.equal(base45Encode(bytes), referenceBase45(new Uint8Array(bytes)), `length ${n}`)
    t.same(Buffer.from(base45Decode(base45Encode(bytes))), bytes)
  }
  const big = randomBytes(64)
  t.equal(base45Encode(big.subarray(7, 40)), referenceBase45(new Uint8Array(big.subarray(7, 40))), 'a view into a larger buffer')
})

t.test('zlib stored blocks: inflate gives the input back', async t => {
  for (const n of [0, 1, 2, 300, 402, 65_534, 65_535, 65_536, 200_000]) {
    const data = randomBytes(n)
    const z = zlibStored(data)
    t.equal(z.length, zlibStoredLength(n), `length ${n}: size as announced`)
    t.same(inflateSync(z), data, `length ${n}: round trip (Adler-32 checked by inflate)`)
  }
  const ones = Buffer.alloc(20_000, 0xff)
  t.same(inflateSync(zlibStored(ones)), ones, 'Adler-32 sums reduced across NMAX blocks')
  const z = zlibStored(Buffer.from('abc'))
  t.equal((z[0]! * 256 + z[1]!) % 31, 0, 'RFC 1950 FCHECK')
  z[z.length - 1]! ^= 1
  t.throws(() => decompress(z), { code: 'DCC_BAD_ZLIB' }, 'a wrong Adler-32 is refused')
})

t.test('encodeHc1: prefix + Base45 of the zlib stream, for payloads larger than the scratch buffer too', async t => {
  for (const n of [0, 1, 400, 5_000, 401]) {
    const cose = randomBytes(n)
    const hc1 = encodeHc1(cose)
    t.equal(hc1, 'HC1:' + base45Encode(zlibStored(cose)))
    t.same(decompress(base45Decode(unprefix(hc1))), cose)
  }
})

t.test('official test vectors (dgc-testdata): same Base45 as theirs, and their COSE re-encoded by us verifies as theirs does', async t => {
  const root = new URL('../fixtures/dcc/testdata/', import.meta.url)
  let checked = 0
  for (const country of readdirSync(root, { withFileTypes: true })) {
    if (!country.isDirectory()) continue
    for (const f of readdirSync(new URL(`${country.name}/2DCode/raw/`, root))) {
      if (!f.endsWith('.json')) continue
      const v = JSON.parse(readFileSync(new URL(`${country.name}/2DCode/raw/${f}`, root), 'utf8'))
      if (typeof v.COMPRESSED === 'string' && typeof v.BASE45 === 'string' && v.EXPECTEDRESULTS?.EXPECTEDB45DECODE !== false) {
        t.equal(base45Encode(Buffer.from(v.COMPRESSED, 'hex')), v.BASE45, `${f}: Base45`)
      }
      if (typeof v.COSE !== 'string' || v.EXPECTEDRESULTS?.EXPECTEDVERIFY !== true) continue
      const opts = { certificate: v.TESTCTX.CERTIFICATE as string, now: new Date(v.TESTCTX.VALIDATIONCLOCK) }
      const theirs = verifyHc1(v.PREFIX, opts)
      const ours = verifyHc1(encodeHc1(Buffer.from(v.COSE, 'hex')), opts)
      t.equal(ours.failedStep, theirs.failedStep, `${country.name}/${f}: same verdict`)
      t.same(ours.payload, theirs.payload)
      checked++
    }
  }
  t.ok(checked >= 40, `${checked} vectors re-encoded`)
})
