// Every HL7 fixture (CDCgov/prime-reportstream, CC0) parses into contract items with the right LOINC,
// result, dates and patient fields.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseHl7v2 } from '../../workers/parse/hl7v2.ts'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/hl7/${name}`, import.meta.url))

t.test('Example-hl7-file.hl7: FHS/BHS batch, CR endings, antigen not detected', async (t) => {
  const out = parseHl7v2(fixture('Example-hl7-file.hl7'))
  t.same(out.errors, [])
  t.equal(out.items.length, 1, 'four AOE OBX skipped, one result')
  const { item, source } = out.items[0]!
  t.equal(source, 'message 1 OBX 1')
  t.strictSame(item, {
    accession: '1234d1d1-95fe-462c-8ac6-46728dba581c',
    loinc: '94558-4',
    result: '260415000',
    status: 'final',
    sampledAt: '2021-08-02T00:00:00-05:00',
    resultedAt: '2021-08-02T00:00:00-05:00',
    specimen: '445297001',
    orderId: '1234d1d1-95fe-462c-8ac6-46728dba581c',
    patient: {
      family: 'Bunny',
      given: ['Bugs', 'C'],
      birthDate: '1900-01-01',
      sex: 'M',
      address: { line: '12345 Main St', postcode: '95125', city: 'San Jose', country: 'US' },
      phone: '+11234567890',
    },
    prescriber: { id: '1679892871', idType: 'NPI', family: 'Doolittle', given: 'Doctor' },
  })
})

t.test('marsotcelr-valid.hl7: LF endings, self-test without patient identity', async (t) => {
  const out = parseHl7v2(fixture('marsotcelr-valid.hl7'))
  t.same(out.errors, [])
  t.equal(out.items.length, 1, 'the age-at-collection NM OBX (35659-2, QST) is not a result')
  const item = out.items[0]!.item as any
  t.equal(item.loinc, '94558-4')
  t.equal(item.result, '260373001')
  t.equal(item.sampledAt, '2024-04-03T12:00:00-04:00')
  t.equal(item.resultedAt, '2024-04-03T12:00:00-04:00')
  t.equal(item.specimen, '697989009')
  t.strictSame(item.patient, { address: { postcode: '02139', country: 'US' } }, 'no name, birth date or sex: left to the validator')
  t.notOk('prescriber' in item, 'ORC-12 without identifier gives no prescriber')
  t.ok(out.warnings.some((w) => w.field === 'PID-13'), 'phone 111 1111111 is not a valid NANP number: omitted and noted')
})

t.test('sample_AK_20240220-0001.hl7: multiplex panel, only the SARS-CoV-2 OBX is a result', async (t) => {
  const out = parseHl7v2(fixture('sample_AK_20240220-0001.hl7'))
  t.same(out.errors, [])
  t.equal(out.items.length, 1)
  const { item, source } = out.items[0]! as { item: any; source: string }
  t.equal(source, 'message 1 OBX 2')
  t.equal(item.loinc, '94500-6')
  t.equal(item.result, '260373001')
  t.equal(item.sampledAt, '2024-02-14T20:51:46+00:00', 'SPM-17')
  t.equal(item.resultedAt, '2024-02-14T21:06:46+00:00', 'OBR-22')
  t.equal(item.device, '00884999048034', 'OBX-18')
  t.strictSame(item.patient, {
    family: 'Diggory',
    given: ['Cedrick', 'Charles'],
    birthDate: '2000-12-18',
    sex: 'M',
    address: { line: '123 Main St', postcode: '99501', city: 'Anchorage', country: 'US' },
    phone: '+13405555555',
  })
  const skipped = out.warnings.filter((w) => w.code === 'SKIPPED').map((w) => w.field)
  t.strictSame(skipped, ['OBX(1)-3', 'OBX(3)-3'], 'RSV and influenza B results are skipped with a note; AOE OBX silently')
})

t.test('single_message.hl7: LF endings, email in PID-13, country from MSH-17', async (t) => {
  const out = parseHl7v2(fixture('single_message.hl7'))
  t.same(out.errors, [])
  t.equal(out.items.length, 1)
  const item = out.items[0]!.item as any
  t.equal(item.loinc, '94558-4')
  t.equal(item.result, '260415000')
  t.equal(item.accession, 'b518ef23-1d9a-40c1-ac4b-ed7b438dfc4b', 'OBR-3 filler order number')
  t.equal(item.orderId, '73a6e9bd-aaec-418e-813a-0ad33366ca85', 'ORC-2 placer order number')
  t.equal(item.sampledAt, '2021-02-09T00:00:00-06:00')
  t.equal(item.resultedAt, '2021-02-09T00:00:00-06:00')
  t.strictSame(item.patient, {
    family: 'Buckridge',
    given: ['Kareem', 'Millie'],
    birthDate: '1958-08-10',
    sex: 'F',
    address: { line: '688 Leighann Inlet', postcode: '67071', city: 'South Rodneychester', country: 'US' },
    phone: '+12112240784',
    email: 'roscoe.wilkinson@email.com',
  })
  t.strictSame(item.prescriber, { id: '1629082607', idType: 'NPI', family: 'Eddin', given: 'Husam' })
  t.equal(out.ack.messages[0]!.header!.controlId, '371784')
})
