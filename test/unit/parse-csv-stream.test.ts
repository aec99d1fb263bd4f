// A 100,000-row upload is parsed as a stream: rows are pulled from the source as batches are consumed,
// never all at once (asserted with counts, not timings).
import t from 'tap'
import { Readable } from 'node:stream'
import { parseCsvStream } from '../../workers/parse/csv.ts'

const ROWS = 100_000
const header = 'accession;loinc;result;status;sampledAt;resultedAt;family;given;birthDate;sex;value\n'

t.test('100,000 rows in bounded batches, read lazily', async (t) => {
  let produced = 0
  async function* source() {
    yield Buffer.from('\uFEFF' + header)
    for (let chunk = 0; chunk < ROWS / 1000; chunk++) {
      let s = ''
      for (let i = 0; i < 1000; i++) {
        const n = chunk * 1000 + i
        // every 10,000th row is bad (non-numeric value)
        s += `A${n};94500-6;260373001;final;2026-11-24T08:30:00+01:00;2026-11-24T15:02:00+01:00;"Nom ${n}";Prénom;1984-03-12;F;${n % 10_000 === 9_999 ? 'x' : ''}\n`
      }
      produced += 1000
      yield Buffer.from(s)
    }
  }
  let items = 0
  let errors = 0
  let batches = 0
  let maxBatch = 0
  let producedAtFirstBatch = -1
  let expectedIndex = 0
  for await (const b of parseCsvStream(Readable.from(source()), { batchSize: 1000 })) {
    if (batches === 0) producedAtFirstBatch = produced
    batches++
    maxBatch = Math.max(maxBatch, b.items.length + b.errors.length)
    for (const u of [...b.items.map((i) => i.index), ...b.errors.map((e) => e.index)].sort((x, y) => x - y)) {
      if (u !== expectedIndex) t.fail(`index ${u} where ${expectedIndex} was expected`)
      expectedIndex++
    }
    items += b.items.length
    errors += b.errors.length
  }
  t.equal(items, ROWS - 10)
  t.equal(errors, 10)
  t.equal(expectedIndex, ROWS, 'every row has exactly one unit index')
  t.equal(batches, 100)
  t.ok(maxBatch <= 1000, 'no batch larger than batchSize')
  t.ok(producedAtFirstBatch < ROWS / 4, `source had produced ${producedAtFirstBatch} rows when the first batch came out`)
})
