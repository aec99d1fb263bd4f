import t from 'tap'
import { validateItem } from '../../workers/validate/validate.ts'
import { NOW, CTX, validItem, minimalItem, variant } from '../helpers/validate-fixtures.ts'

t.test('the DESIGN.md example becomes a canonical result', async (t) => {
  const out = validateItem(validItem(), CTX)
  if (!out.ok) throw new Error('expected ok: ' + JSON.stringify(out.errors))
  const r = out.result
  t.equal(r.labId, 'lab-0042', 'lab id from the context, not the body')
  t.equal(r.testType, 'naat')
  t.equal(r.sampledAtMs, Date.parse('2026-11-24T07:30:00Z'))
  t.equal(r.resultedAtMs, Date.parse('2026-11-24T14:02:00Z'))
  t.equal(r.sampledAt, '2026-11-24T08:30:00+01:00', 'the instant text is kept as sent')
  t.same(r.residence, { country: 'FR', department: '75', region: '11' })
  t.same(r.patient, {
    ins: '284037512345640',
    family: 'Dupont-Lefèvre',
    given: ['Marie', 'Anne'],
    birthDate: '1984-03-12',
    sex: 'F',
    address: { line: '12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' },
    phone: '+33612345678',
    email: 'marie.dupont@example.fr',
  })
  t.same(r.prescriber, { id: '10001234567', idType: 'RPPS', family: 'Martin', given: 'Paul' })
  t.equal(r.specimen, '258500001')
  t.equal(r.device, '1232')
  t.equal(r.orderId, 'ord_7f3a')
  t.notOk('value' in r, 'absent optional fields are not set to undefined')
})

t.test('strings are trimmed before validation and in the result', async (t) => {
  const item = variant((i) => {
    i.accession = '  2026-11-24-000123 '
    i.loinc = ' 94500-6'
    i.sampledAt = '2026-11-24T08:30:00+01:00 '
    i.patient.family = '  Dupont-Lefèvre  '
    i.patient.given = [' Marie ', 'Anne']
    i.patient.address.postcode = ' 75013 '
    i.patient.ins = ' 284037512345640 '
  })
  const out = validateItem(item, CTX)
  if (!out.ok) throw new Error('expected ok: ' + JSON.stringify(out.errors))
  t.equal(out.result.accession, '2026-11-24-000123')
  t.equal(out.result.loinc, '94500-6')
  t.equal(out.result.patient.family, 'Dupont-Lefèvre')
  t.same(out.result.patient.given, ['Marie', 'Anne'])
  t.equal(out.result.patient.ins, '284037512345640')
  t.equal(out.result.patient.address?.postcode, '75013')
  t.equal(item.accession, '  2026-11-24-000123 ', 'the input is not mutated')
})

t.test('minimal item: residence unknown', async (t) => {
  const out = validateItem(minimalItem(), CTX)
  if (!out.ok) throw new Error('expected ok: ' + JSON.stringify(out.errors))
  t.equal(out.result.testType, 'antigen')
  t.same(out.result.residence, { country: 'ZZ', department: null, region: null })
  t.same(Object.keys(out.result.patient).sort(), ['birthDate', 'family', 'given', 'sex'])
  t.notOk('prescriber' in out.result)
})

t.test('quantitative serology keeps value and unit', async (t) => {
  const out = validateItem(
    variant((i) => {
      i.loinc = '94505-5'
      i.value = 12.5
      i.unit = "[arb'U]/mL"
    }),
    CTX,
  )
  if (!out.ok) throw new Error('expected ok: ' + JSON.stringify(out.errors))
  t.equal(out.result.testType, 'serology')
  t.equal(out.result.value, 12.5)
  t.equal(out.result.unit, "[arb'U]/mL")
})

t.test('address: country defaults to FR and is upper-cased; Corsica and overseas residences', async (t) => {
  const noCountry = validateItem(variant((i) => delete i.patient.address.country), CTX)
  t.same(noCountry.ok && noCountry.result.patient.address, { line: '12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' })
  const lower = validateItem(variant((i) => (i.patient.address.country = 'fr')), CTX)
  t.equal(lower.ok && lower.result.patient.address?.country, 'FR')
  const corsica = validateItem(variant((i) => (i.patient.address.postcode = '20200')), CTX)
  t.same(corsica.ok && corsica.result.residence, { country: 'FR', department: '2B', region: '94' })
  const reunion = validateItem(variant((i) => (i.patient.address.postcode = '97411')), CTX)
  t.same(reunion.ok && reunion.result.residence, { country: 'FR', department: '974', region: '04' })
  const monaco = validateItem(variant((i) => (i.patient.address.postcode = '98000')), CTX)
  t.same(monaco.ok && monaco.result.residence, { country: 'MC', department: null, region: null })
  const abroad = validateItem(variant((i) => (i.patient.address = { postcode: '1000', city: 'Bruxelles', country: 'BE' })), CTX)
  t.same(abroad.ok && abroad.result.residence, { country: 'BE', department: null, region: null })
})

t.test('Corsican INS, corrected and cancelled statuses', async (t) => {
  t.equal(validateItem(variant((i) => (i.patient.ins = '185032A12345601')), CTX).ok, true)
  t.equal(validateItem(variant((i) => (i.status = 'corrected')), CTX).ok, true)
  t.equal(validateItem(variant((i) => (i.status = 'cancelled')), CTX).ok, true)
})

t.test('resultedAt up to 5 minutes ahead of now is accepted (clock skew)', async (t) => {
  const out = validateItem(variant((i) => (i.resultedAt = new Date(NOW + 5 * 60_000).toISOString())), CTX)
  t.equal(out.ok, true)
})
