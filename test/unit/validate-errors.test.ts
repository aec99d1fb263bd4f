import t from 'tap'
import { ERROR_CODES, validateItem } from '../../workers/validate/validate.ts'
import type { ItemError } from '../../workers/model/canonical.ts'
import { NOW, validItem, variant } from '../helpers/validate-fixtures.ts'

function errorsOf(item: unknown, now = NOW): ItemError[] {
  const out = validateItem(item, { labId: 'lab-0042', now })
  return out.ok ? [] : out.errors
}
function pairs(item: unknown, now = NOW): string[] {
  return errorsOf(item, now).map((e) => `${e.code} ${e.field}`)
}

/**
 * One case per error code at least: [title, item, expected "CODE field" pairs (exactly these)].
 * The last test checks that together they produce every code of ERROR_CODES.
 */
const CASES: Array<[string, unknown, string[]]> = [
  // REQUIRED
  ['missing accession', variant((i) => delete i.accession), ['REQUIRED accession']],
  ['missing patient', variant((i) => delete i.patient), ['REQUIRED patient']],
  ['missing patient.family and sex', variant((i) => { delete i.patient.family; delete i.patient.sex }), ['REQUIRED patient.family', 'REQUIRED patient.sex']],
  ['empty given list', variant((i) => (i.patient.given = [])), ['REQUIRED patient.given']],
  ['blank accession (trimmed to empty)', variant((i) => (i.accession = '   ')), ['REQUIRED accession']],
  ['value without unit', variant((i) => { i.loinc = '94505-5'; i.value = 3 }), ['REQUIRED unit']],
  ['unit without value', variant((i) => { i.loinc = '94505-5'; i.unit = 'AU/mL' }), ['REQUIRED value']],
  ['prescriber without id', variant((i) => delete i.prescriber.id), ['REQUIRED prescriber.id']],
  // INVALID_TYPE
  ['item is null', null, ['INVALID_TYPE ']],
  ['item is an array', [validItem()], ['INVALID_TYPE ']],
  ['item is a string', '{"accession":"x"}', ['INVALID_TYPE ']],
  ['value as a string', variant((i) => { i.loinc = '94505-5'; i.value = '12.5'; i.unit = 'AU/mL' }), ['INVALID_TYPE value']],
  ['given as a string', variant((i) => (i.patient.given = 'Marie')), ['INVALID_TYPE patient.given']],
  ['a given name as a number', variant((i) => (i.patient.given = ['Marie', 7])), ['INVALID_TYPE patient.given.1']],
  ['address as a string', variant((i) => (i.patient.address = '12 rue des Lilas')), ['INVALID_TYPE patient.address']],
  // UNKNOWN_FIELD
  ['misspelt top-level field', variant((i) => { i.resultAt = i.resultedAt }), ['UNKNOWN_FIELD resultAt']],
  ['unknown patient field', variant((i) => (i.patient.nir = '284037512345640')), ['UNKNOWN_FIELD patient.nir']],
  ['unknown address field', variant((i) => (i.patient.address.zip = '75013')), ['UNKNOWN_FIELD patient.address.zip']],
  ['labId in the body', variant((i) => (i.labId = 'other-lab')), ['UNKNOWN_FIELD labId']],
  ['__proto__ key', JSON.parse(JSON.stringify(validItem()).replace('{', '{"__proto__":{"x":1},')), ['UNKNOWN_FIELD __proto__']],
  // TOO_LONG
  ['accession of 65 characters', variant((i) => (i.accession = 'A'.repeat(65))), ['TOO_LONG accession']],
  ['family name of 101 characters', variant((i) => (i.patient.family = 'B'.repeat(101))), ['TOO_LONG patient.family']],
  ['eleven given names', variant((i) => (i.patient.given = Array(11).fill('Jean'))), ['TOO_LONG patient.given']],
  // INVALID_FORMAT
  ['loinc without check digit', variant((i) => (i.loinc = '94500')), ['INVALID_FORMAT loinc']],
  ['result as a word', variant((i) => (i.result = 'positive')), ['INVALID_FORMAT result']],
  ['sampledAt without offset', variant((i) => (i.sampledAt = '2026-11-24T08:30:00')), ['INVALID_FORMAT sampledAt']],
  ['resultedAt on 30 February', variant((i) => (i.resultedAt = '2026-02-30T10:00:00Z')), ['INVALID_FORMAT resultedAt']],
  ['phone not E.164', variant((i) => (i.patient.phone = '06 12 34 56 78')), ['INVALID_FORMAT patient.phone']],
  ['email without domain', variant((i) => (i.patient.email = 'marie.dupont@')), ['INVALID_FORMAT patient.email']],
  ['country of three letters', variant((i) => (i.patient.address.country = 'FRA')), ['TOO_LONG patient.address.country', 'INVALID_FORMAT patient.address.country']],
  ['French postcode of 4 digits', variant((i) => (i.patient.address.postcode = '7513')), ['INVALID_FORMAT patient.address.postcode']],
  ['control character in accession', variant((i) => (i.accession = 'A\u0000B')), ['INVALID_FORMAT accession']],
  // INVALID_VALUE
  ['unknown status', variant((i) => (i.status = 'preliminary')), ['INVALID_VALUE status']],
  ['unknown sex', variant((i) => (i.patient.sex = 'X')), ['INVALID_VALUE patient.sex']],
  ['negative value', variant((i) => { i.loinc = '94505-5'; i.value = -1; i.unit = 'AU/mL' }), ['INVALID_VALUE value']],
  ['unknown prescriber idType', variant((i) => (i.prescriber.idType = 'SIRET')), ['INVALID_VALUE prescriber.idType']],
  ['unassigned country code', variant((i) => (i.patient.address.country = 'QQ')), ['INVALID_VALUE patient.address.country']],
  ['family name of punctuation only', variant((i) => (i.patient.family = "-'-")), ['INVALID_VALUE patient.family']],
  ['a given name of punctuation only', variant((i) => (i.patient.given = ['Marie', '.'])), ['INVALID_VALUE patient.given.1']],
  // test and outcome
  ['unknown LOINC (glucose)', variant((i) => (i.loinc = '2345-7')), ['UNKNOWN_LOINC loinc']],
  ['SNOMED "positive" is not in the value set', variant((i) => (i.result = '10828004')), ['RESULT_NOT_VALID_FOR_TEST result']],
  ['unknown LOINC and a bad result both reported', variant((i) => { i.loinc = '2345-7'; i.result = '10828004' }), ['UNKNOWN_LOINC loinc', 'RESULT_NOT_VALID_FOR_TEST result']],
  ['value on a NAAT', variant((i) => { i.value = 30.1; i.unit = '{Ct}' }), ['VALUE_NOT_ALLOWED value']],
  ['value on an antigen test', variant((i) => { i.loinc = '97097-0'; i.value = 1; i.unit = '1' }), ['VALUE_NOT_ALLOWED value']],
  // dates
  ['sampled in 2019', variant((i) => (i.sampledAt = '2019-12-31T23:00:00Z')), ['DATE_BEFORE_2020 sampledAt']],
  ['resulted before sampled', variant((i) => (i.resultedAt = '2026-11-24T08:29:59+01:00')), ['SAMPLED_AFTER_RESULTED sampledAt']],
  ['sampled in the future', variant((i) => { i.sampledAt = '2026-11-26T08:00:00Z'; i.resultedAt = '2026-11-26T09:00:00Z' }), ['SAMPLED_IN_FUTURE sampledAt', 'RESULTED_IN_FUTURE resultedAt']],
  ['resulted 6 minutes ahead', variant((i) => (i.resultedAt = '2026-11-25T00:06:00Z')), ['RESULTED_IN_FUTURE resultedAt']],
  ['birth date 30 February', variant((i) => (i.patient.birthDate = '2023-02-30')), ['INVALID_BIRTH_DATE patient.birthDate']],
  ['birth date in French order', variant((i) => (i.patient.birthDate = '12/03/1984')), ['INVALID_BIRTH_DATE patient.birthDate']],
  ['birth date before 1900', variant((i) => (i.patient.birthDate = '1899-12-31')), ['IMPLAUSIBLE_BIRTH_DATE patient.birthDate']],
  ['born after sampling', variant((i) => (i.patient.birthDate = '2026-11-25')), ['IMPLAUSIBLE_BIRTH_DATE patient.birthDate']],
  // INS
  ['INS of 14 characters', variant((i) => (i.patient.ins = '28403751234564')), ['INVALID_NIR_FORMAT patient.ins']],
  ['INS with spaces', variant((i) => (i.patient.ins = '2 84 03 75 123 456 40')), ['TOO_LONG patient.ins', 'INVALID_NIR_FORMAT patient.ins']],
  ['INS with a wrong key', variant((i) => (i.patient.ins = '284037512345641')), ['INVALID_NIR_KEY patient.ins']],
  ['Corsican INS keyed as 20', variant((i) => (i.patient.ins = '185032A12345671')), ['INVALID_NIR_KEY patient.ins']],
  // residence
  ['postcode 00000', variant((i) => (i.patient.address.postcode = '00000')), ['UNKNOWN_POSTCODE patient.address.postcode']],
  ['postcode 20700 (no Corsican department)', variant((i) => (i.patient.address.postcode = '20700')), ['UNKNOWN_POSTCODE patient.address.postcode']],
]

for (const [title, item, expected] of CASES) {
  t.test(title, async (t) => {
    t.same(pairs(item).sort(), [...expected].sort())
  })
}

t.test('every error code of ERROR_CODES is produced by some case above', async (t) => {
  const produced = new Set(CASES.flatMap(([, item]) => errorsOf(item).map((e) => e.code)))
  t.same([...produced].sort(), [...ERROR_CODES].sort())
})

t.test('every error code is UPPER_SNAKE and every produced error has code, field, message', async (t) => {
  for (const c of ERROR_CODES) t.match(c, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
  for (const [, item] of CASES) {
    for (const e of errorsOf(item)) {
      t.ok((ERROR_CODES as readonly string[]).includes(e.code), e.code)
      t.type(e.field, 'string')
      t.ok(e.message.length > 10 && /[.]$/.test(e.message), e.message)
    }
  }
})

t.test('an invalid-everything item reports its problems all at once', async (t) => {
  const item = {
    accession: '',
    loinc: '1234-5',
    result: 'pos',
    status: 'done',
    sampledAt: '2019-06-01T10:00:00Z',
    resultedAt: '2026-12-01T10:00:00',
    value: 'high',
    colour: 'red',
    patient: {
      ins: '284037512345699',
      family: 'Dupont',
      given: ['Marie'],
      birthDate: '1850-01-01',
      sex: 'female',
      address: { postcode: '00000', country: 'FR' },
      phone: '0612345678',
      email: 'not-an-email',
    },
  }
  t.same(pairs(item).sort(), [
    'DATE_BEFORE_2020 sampledAt',
    'IMPLAUSIBLE_BIRTH_DATE patient.birthDate',
    'INVALID_FORMAT patient.email',
    'INVALID_FORMAT patient.phone',
    'INVALID_FORMAT result',
    'INVALID_FORMAT resultedAt',
    'INVALID_NIR_KEY patient.ins',
    'INVALID_TYPE value',
    'INVALID_VALUE patient.sex',
    'INVALID_VALUE status',
    'REQUIRED accession',
    'REQUIRED unit',
    'UNKNOWN_FIELD colour',
    'UNKNOWN_LOINC loinc',
    'UNKNOWN_POSTCODE patient.address.postcode',
  ])
})

t.test('one mistake gives one error: rules skip fields that failed the structure', async (t) => {
  t.same(pairs(variant((i) => (i.patient.birthDate = 19840312))), ['INVALID_TYPE patient.birthDate'])
  t.same(pairs(variant((i) => (i.loinc = 94500))), ['INVALID_TYPE loinc'])
  t.same(pairs(variant((i) => (i.patient = 'Marie Dupont'))), ['INVALID_TYPE patient'])
})

t.test('messages never echo personal values', async (t) => {
  const item = variant((i) => {
    i.patient.family = 'Zyxwvutsrq'.repeat(11) // too long
    i.patient.given = ['Qwertyuiop', '!!!']
    i.patient.birthDate = '2023-02-30'
    i.patient.ins = '284037512345641'
    i.patient.phone = '0612345678'
    i.patient.email = 'secret.person@'
    i.patient.address.postcode = '00000'
    i.patient.address.line = 'Le Moulin\n2'
    i.sampledAt = '2026-11-26T08:30:00+01:00'
  })
  const errors = errorsOf(item)
  t.ok(errors.length >= 8, `${errors.length} errors`)
  const text = JSON.stringify(errors)
  for (const secret of ['Zyxwvutsrq', 'Qwertyuiop', '2023-02-30', '284037512345641', '0612345678', 'secret', 'Moulin', '2026-11-26']) {
    t.notMatch(text, secret, `no ${secret}`)
  }
})

t.test('now is a parameter: the same item is valid or not depending on it', async (t) => {
  const item = validItem()
  t.same(pairs(item, Date.parse('2026-11-24T14:10:00Z')), [], '2026-11-24T15:02+01:00 is 14:02Z, within 5 minutes')
  t.same(pairs(item, Date.parse('2026-11-24T13:56:00Z')), ['RESULTED_IN_FUTURE resultedAt'])
})

t.test('bad input never throws', async (t) => {
  const weird: unknown[] = [undefined, 0, true, {}, [], { patient: [] }, { patient: { given: [[]] } }, Object.create(null), { accession: { a: { b: { c: { d: 1 } } } } }]
  for (const w of weird) {
    const out = validateItem(w, { labId: 'x', now: NOW })
    t.equal(out.ok, false)
  }
})
