// FEED message → result_facts TabSeparated rows (pipeline/sinks/clickhouse-sink.ts feedTsvRows): the columns
// of FACT_COLUMNS, in that order, escaped as ClickHouse's TabSeparated format reads them.
import t from 'tap'
import { FACT_COLUMNS, feedTsvRows } from '../../pipeline/sinks/clickhouse-sink.ts'

const fact = {
  schema: 'sidep.feed.pseudo/v1', factId: '7d1c3a52-0a4b-4d0e-9a55-3c1a0f1e2b3c', version: 2, state: 'corrected',
  pseudonym: 'k1.abc', keyId: 'k1', labId: 'lab-1', testType: 'serology', loinc: '94563-4', result: '260373001', value: 12.5,
  unit: 'AU/mL', ageBand: '40-49', sex: 'F', department: '75', region: '11', country: 'FR', sampledDate: '2026-11-24', resultedDate: '2026-11-25',
}
const bytes = (v: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(v)))

t.test('one line per record, the columns in FACT_COLUMNS order', async (t) => {
  const counts: Record<string, number> = {}
  const tsv = feedTsvRows(bytes([fact, { ...fact, factId: 'x', version: 1, state: 'final', value: null, unit: '' }]), 1234, counts)
  const lines = tsv.split('\n')
  t.equal(lines.pop(), '', 'ends with a newline')
  t.same(lines[0].split('\t'), ['7d1c3a52-0a4b-4d0e-9a55-3c1a0f1e2b3c', '2', 'corrected', 'k1.abc', 'k1', 'lab-1', 'serology', '94563-4', '260373001', '12.5', 'AU/mL', '40-49', 'F', '75', '11', 'FR', '2026-11-24', '2026-11-25', '1234'])
  t.equal(lines[0].split('\t').length, FACT_COLUMNS.length)
  t.same(lines[1].split('\t').slice(0, 11), ['x', '1', 'final', 'k1.abc', 'k1', 'lab-1', 'serology', '94563-4', '260373001', '\\N', ''], 'null value is \\N')
  t.same(counts, { corrected: 1, final: 1 })
})

t.test('tabs, newlines and backslashes are escaped; only the mapped fields are written', async (t) => {
  const tsv = feedTsvRows(bytes([{ ...fact, unit: 'a\tb\nc\\d\re', family: 'Dupont', birthDate: '1984-03-12' }]), 0, {})
  t.equal(tsv.split('\t')[10], 'a\\tb\\nc\\\\d\\re')
  t.equal(tsv.split('\n').length, 2, 'one line')
  t.notOk(tsv.includes('Dupont'))
  t.notOk(tsv.includes('1984-03-12'))
})

t.test('absent string fields are empty, as JSONEachRow defaults gave them', async (t) => {
  const { unit: _u, value: _v, ...rest } = fact
  t.same(feedTsvRows(bytes([rest]), 0, {}).split('\t').slice(9, 11), ['\\N', ''])
})

t.test('what is not a FEED array of records is refused', async (t) => {
  for (const bad of [{}, [null], [{ ...fact, version: '2' }], [{ ...fact, version: 1.5 }], [{ ...fact, value: '12' }], [{ ...fact, pseudonym: { a: 1 } }], [{ ...fact, labId: 7 }], [{ ...fact, sampledDate: 'not-a-date' }], [{ ...fact, resultedDate: undefined }]]) {
    t.throws(() => feedTsvRows(bytes(bad), 0, {}), JSON.stringify(bad).slice(0, 60))
  }
  t.throws(() => feedTsvRows(new Uint8Array(Buffer.from('[{"x":')), 0, {}))
  const counts: Record<string, number> = {}
  t.throws(() => feedTsvRows(bytes([fact, { ...fact, version: -1 }]), 0, counts))
  t.same(counts, {}, 'a refused message counts nothing')
})

t.test('a payload that is a view into a larger buffer is read from its own bytes', async (t) => {
  const whole = Buffer.from(`xxxx${JSON.stringify([fact])}yyyy`)
  const view = new Uint8Array(whole.buffer, whole.byteOffset + 4, whole.byteLength - 8)
  t.equal(feedTsvRows(view, 0, {}).split('\t')[0], fact.factId)
})
