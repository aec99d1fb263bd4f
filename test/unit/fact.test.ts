import t from 'tap'
import { ageBand, factOf } from '../../workers/fact.ts'
import { feedTsvRows } from '../../pipeline/sinks/clickhouse-sink.ts'
import type { CanonicalResult } from '../../workers/model/canonical.ts'

t.test('age band is the completed age on the sampling day, in ten-year bands, 90+ together', async (t) => {
  t.equal(ageBand('1984-03-12', '2026-03-11T23:00:00+01:00'), '40-49')
  t.equal(ageBand('1986-03-12', '2026-03-11T10:00:00Z'), '30-39', 'the day before the 40th birthday')
  t.equal(ageBand('1986-03-12', '2026-03-12T10:00:00Z'), '40-49', 'on the birthday')
  t.equal(ageBand('2026-01-01', '2026-03-01T10:00:00Z'), '00-09')
  t.equal(ageBand('1930-01-01', '2026-03-01T10:00:00Z'), '90+')
})

const result: CanonicalResult = {
  labId: 'lab-1', accession: 'A', loinc: '94563-4', testType: 'serology', result: '260373001', value: 80.5, unit: 'AU/mL', status: 'final',
  sampledAt: '2026-11-24T00:30:00+01:00', resultedAt: '2026-11-24T15:00:00+01:00', sampledAtMs: Date.parse('2026-11-24T00:30:00+01:00'), resultedAtMs: Date.parse('2026-11-24T15:00:00+01:00'),
  patient: { ins: '284037512345640', family: 'Dupont', given: ['Marie'], birthDate: '1984-03-12', sex: 'F', address: { line: '1 rue X', postcode: '75013', country: 'FR' }, phone: '+33612345678', email: 'm@example.fr' },
  residence: { country: 'FR', department: '75', region: '11' },
}

t.test('a fact carries only pseudonymised fields, with the lab-local sampling day', async (t) => {
  const fact = factOf(result, 'ab'.repeat(32), 'pk-1')
  t.same(fact, {
    pseudonym: 'ab'.repeat(32), keyId: 'pk-1', labId: 'lab-1', testType: 'serology', loinc: '94563-4', result: '260373001', value: 80.5, unit: 'AU/mL',
    ageBand: '40-49', sex: 'F', department: '75', region: '11', country: 'FR', sampledDate: '2026-11-24', resultedDate: '2026-11-24',
  })
  // the row the ClickHouse sink writes for this fact's FEED record
  const text = feedTsvRows(Buffer.from(JSON.stringify([{ schema: 'sidep.feed.pseudo/v1', factId: 'r', version: 1, state: 'final', ...fact }])), 0, {})
  for (const personal of ['Dupont', 'Marie', '1984-03-12', '+33612345678', 'm@example.fr', '284037512345640', '1 rue X']) {
    t.notOk(text.includes(personal), `the ClickHouse row has no ${personal}`)
  }
})
