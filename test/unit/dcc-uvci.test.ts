// UVCI check character: Luhn mod N over "A-Z0-9/:" on the whole identifier incl. "URN:UVCI:"
// (eu-dcc-schema FAQ "UVCI checksum"; eHN guidelines Annex 2).
import t from 'tap'
import { luhnModNCheckChar, isValidUvciChecksum, makeUvci, UVCI_CHARSET } from '../../workers/dcc/uvci.ts'

t.equal(UVCI_CHARSET, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:')
t.equal(luhnModNCheckChar('URN:UVCI:01:NL:187/37512422923'), 'Z', 'eu-dcc-schema FAQ example')

// UVCIs from the official test vectors (dgc-testdata), issued by AT and FR
for (const ci of [
  'URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B',
  'URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3',
  'URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K',
  'URN:UVCI:01:FR:GGD81AAH16AZ#8',
  'URN:UVCI:01:FR:Y4996KBJ4Q3Q#:',
  'URN:UVCI:01:FR:P4LU2647E8HN#/'
]) t.ok(isValidUvciChecksum(ci), ci)

t.test('detects single-character errors and transpositions', async t => {
  const ci = 'URN:UVCI:01:FR:GGD81AAH16AZ#8'
  t.notOk(isValidUvciChecksum(ci.replace('#8', '#9')))
  t.notOk(isValidUvciChecksum(ci.replace('GGD8', 'GGD9')))
  t.notOk(isValidUvciChecksum(ci.replace('16AZ', '16ZA')))
  t.notOk(isValidUvciChecksum('URN:UVCI:01:FR:GGD81AAH16AZ'), 'no check char')
  t.notOk(isValidUvciChecksum('urn:uvci:01:FR:GGD81AAH16AZ#8'), 'lowercase is outside the charset')
  t.notOk(isValidUvciChecksum('#8'))
})

t.test('makeUvci', async t => {
  const ci = makeUvci()
  t.match(ci, /^URN:UVCI:01:FR:[0-9A-Z]{20}#[A-Z0-9/:]$/)
  t.ok(isValidUvciChecksum(ci))
  t.ok(ci.length <= 80, 'schema certificate_id maxLength')
  t.equal(makeUvci('FR', 'LAB1/ABC123'), `URN:UVCI:01:FR:LAB1/ABC123#${luhnModNCheckChar('URN:UVCI:01:FR:LAB1/ABC123')}`)
  const seen = new Set(Array.from({ length: 1000 }, () => makeUvci()))
  t.equal(seen.size, 1000)
  t.throws(() => makeUvci('FR', 'bad-chars'), { code: 'DCC_BAD_UVCI' })
})
