// The large fuzzed batch: its malformed messages are rejected one by one, the good ones parse.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseHl7v2 } from '../../workers/parse/hl7v2.ts'

const out = parseHl7v2(readFileSync(new URL('../fixtures/hl7/test-0001-input-covid-19.hl7', import.meta.url)))

t.test('20 messages: 12 items, 8 messages rejected for PID-8', async (t) => {
  t.equal(out.ack.messages.length, 20)
  t.equal(out.items.length, 12)
  t.equal(out.errors.length, 8)
  const rejected = out.ack.messages.filter((m) => m.errorIndexes.length > 0).map((m) => m.header!.controlId)
  t.strictSame(rejected, ['132361', '190971', '137116', '318369', '647829', '876517', '500806', '223070'])
  for (const e of out.errors) {
    t.equal(e.code, 'UNSUPPORTED_CODE')
    t.equal(e.field, 'PID-8')
    t.match(e.message, /administrative sex '(N|O)'/)
  }
  // indices: one per unit, in input order, never shared between an item and an error
  const all = [...out.items.map((i) => i.index), ...out.errors.map((e) => e.index)].sort((a, b) => a - b)
  t.strictSame(all, Array.from({ length: 20 }, (_, i) => i))
})

t.test('good messages map corrections and coded results', async (t) => {
  const first = out.items[0]!
  t.equal(first.source, 'message 1 OBX 1')
  t.match(first.item, {
    accession: '165956',
    loinc: '94558-4',
    result: '419984006',
    status: 'final',
    sampledAt: '2021-06-23T07:50:00-04:00',
    resultedAt: '2021-06-20T06:23:00-04:00',
    specimen: '122555007',
    orderId: '202869',
    patient: { family: 'Koepp', given: ['Lucio', 'Vi'], birthDate: '1992-05-03', sex: 'F', phone: '+12874298145', email: 'dario.watsica@email.com' },
    prescriber: { id: '1461757679', family: 'West', given: 'Olin' },
  })
  t.notOk('address' in (first.item.patient as object), 'garbage PID-11.6 country: address left out')
  const statuses = out.items.map((i) => i.item.status)
  t.equal(statuses.filter((s) => s === 'corrected').length, 8, 'OBX-11 C → corrected')
  t.equal(statuses.filter((s) => s === 'final').length, 4)
  t.ok(out.items.every((i) => ['94558-4', '95209-3'].includes(i.item.loinc as string)))
})

t.test('batch-level notes', async (t) => {
  t.ok(out.warnings.some((w) => w.code === 'COUNT_MISMATCH' && w.field === 'BTS-1'), 'BTS-1 says 25, the batch holds 20')
  t.ok(out.warnings.some((w) => w.field === 'OBX(1)-3.3'), 'OBX-3 coding system is not LN but the code is read as LOINC')
})
