import t from 'tap'
import { checkNir, compactNir, isValidNir, nirKey } from '../../workers/validate/nir.ts'

// Keys worked out by hand (key = 97 − (13-digit number mod 97)):
//  2840375123456 = 97 × 29282217767 + 57          → key 40  (the DESIGN.md example)
//  185032A123456 → 1850319123456 (2A → 19)
//                = 97 × 19075454880 + 96          → key 01
//  292022B012345 → 2920218012345 (2B → 18)
//                = 97 × 30105340333 + 44          → key 53
//  1840175000033 = 97 × 18970876289 + 0           → key 97 (the largest key; 00 never occurs)
const DESIGN_EXAMPLE = '284037512345640'
const CORSE_DU_SUD = '185032A12345601'
const HAUTE_CORSE = '292022B01234553'
const KEY_97 = '184017500003397'

t.test('valid NIRs, including Corsica and the key 97 edge', async (t) => {
  for (const nir of [DESIGN_EXAMPLE, CORSE_DU_SUD, HAUTE_CORSE, KEY_97]) {
    t.same(checkNir(nir), { ok: true }, nir)
    t.equal(isValidNir(nir), true, nir)
  }
})

t.test('nirKey computes the control key with the Corsica substitution', async (t) => {
  t.equal(nirKey('2840375123456'), 40)
  t.equal(nirKey('185032A123456'), 1)
  t.equal(nirKey('292022B012345'), 53)
  t.equal(nirKey('1840175000033'), 97)
})

t.test('Corsica keys computed as if 2A/2B were 20 are rejected', async (t) => {
  // 1850320123456 → key 71 and 2920220012345 → key 96 would be right only without the substitution
  t.same(checkNir('185032A12345671'), { ok: false, reason: 'key' })
  t.same(checkNir('292022B01234596'), { ok: false, reason: 'key' })
})

t.test('a wrong key is a key error, not a format error', async (t) => {
  t.same(checkNir('284037512345641'), { ok: false, reason: 'key' }, 'off by one')
  t.same(checkNir('284037512345604'), { ok: false, reason: 'key' }, 'key digits swapped')
  t.same(checkNir('284037521345640'), { ok: false, reason: 'key' }, 'body digits transposed')
  t.same(checkNir('284037512345600'), { ok: false, reason: 'key' }, 'key 00 never valid')
  t.equal(isValidNir('284037512345641'), false)
})

t.test('format errors', async (t) => {
  const bad = [
    '',
    '28403751234564', // 14 characters
    '2840375123456400', // 16 characters
    '2 84 03 75 123 456 40', // printed form with spaces
    '28403751234564A', // letter in the key
    '185032a12345601', // lower-case corsica
    '185032C12345601', // not a Corsican department
    '18503A212345601', // A in the wrong position
    '584037512345640', // 5 is not a sex / kind digit
    '084037512345640',
  ]
  for (const nir of bad) t.same(checkNir(nir), { ok: false, reason: 'format' }, JSON.stringify(nir))
})

t.test('NIA and foreigners-being-registered first digits are accepted when the key matches', async (t) => {
  for (const first of ['3', '4', '7', '8']) {
    const body = first + '840375123456'
    const key = String(nirKey(body)).padStart(2, '0')
    t.same(checkNir(body + key), { ok: true }, first)
  }
})

t.test('compactNir removes separators and upper-cases Corsica letters', async (t) => {
  t.equal(compactNir('2 84 03 75 123 456 40'), DESIGN_EXAMPLE)
  t.equal(compactNir('1.85.03.2a.123.456-01'), CORSE_DU_SUD)
  t.equal(isValidNir(compactNir(' 2 92 02 2b 012 345 53 ')), true)
})
