// The PostgreSQL poll's bookkeeping (bench/lib/ledger.ts pgRow, pgStragglers) and the submissions
// generated ahead (bench/lib/submission-source.ts). Pure: no servers.
import t from 'tap'
import { BenchLedger, bookingOf } from '../../bench/lib/ledger.ts'
import { SubmissionSource } from '../../bench/lib/submission-source.ts'
import { SyntheticLabs, type GeneratedItem, type LabResultItem } from '../../bench/lib/synthetic-labs.ts'

const T0 = 1_700_000_000_000
const item = (accession: string, over: Partial<LabResultItem> = {}): LabResultItem => ({
  accession, loinc: '94500-6', result: '260415000', status: 'final',
  sampledAt: '2026-01-01T08:00:00+01:00', resultedAt: '2026-01-01T10:00:00+01:00',
  patient: { family: 'Dupont', given: ['Marie'], birthDate: '1984-03-12', sex: 'F' }, ...over,
})
const g = (it: LabResultItem, kind: GeneratedItem['kind'], expected: GeneratedItem['expected']): GeneratedItem => ({ labId: 'lab1', item: it, kind, expected })

t.test('pgRow: a results row dates version 1 by created_at and its current version by updated_at; a row seen again resolves nothing', async (t) => {
  const l = new BenchLedger(T0)
  const a = item('A1')
  const s1 = l.submit('lab1', [g(a, 'new', 'stored'), g(item('A2'), 'new', 'stored')], T0)
  l.answer(s1, 2, [], T0 + 1)
  const s2 = l.submit('lab1', [g({ ...a, status: 'corrected' }, 'correction', 'corrected')], T0 + 100)
  l.answer(s2, 1, [], T0 + 101)
  // both versions of A1 committed between two polls: the row shows version 2
  t.equal(l.pgRow('lab1', 'A1', '94500-6', 2, 'rid-1', T0 + 300, T0 + 400, T0 + 500), 2)
  t.equal(l.pgRow('lab1', 'A1', '94500-6', 2, 'rid-1', T0 + 300, T0 + 400, T0 + 900), 0, 're-read rows are ignored')
  t.equal(l.pgRow('lab1', 'OTHER', '94500-6', 1, 'rid-x', T0, T0, T0), 0, 'rows of other keys are ignored')
  t.equal(l.pgPendingCount, 1)
  t.same([l.pgLatency.summary().min, l.pgLatency.summary().max], [300, 300], 'v1 at created_at − send, v2 at updated_at − its send')
  t.equal(l.counts.pg_versions, 2)
})

t.test('pgRow leaves a version in between to the by-key lookup; pgStragglers picks what must be committed by now', async (t) => {
  const l = new BenchLedger(T0)
  const a = item('A1')
  const subs = [
    l.submit('lab1', [g(a, 'new', 'stored')], T0),
    l.submit('lab1', [g({ ...a, status: 'corrected' }, 'correction', 'corrected')], T0),
    l.submit('lab1', [g({ ...a, status: 'cancelled' }, 'cancellation', 'cancelled')], T0),
    l.submit('lab1', [g(item('B1'), 'new', 'stored')], T0),
  ]
  for (const s of subs) l.answer(s, 1, [], T0)
  t.equal(l.pgRow('lab1', 'A1', '94500-6', 3, 'rid-a', T0 + 10, T0 + 20, T0 + 30), 2, 'versions 1 and 3')
  t.same(l.pgStragglers(T0 + 1000, 1500, 10_000, 10), [], 'nothing is due yet')
  l.status(subs[1], [{ index: 0, status: 'corrected', resultId: 'rid-a' }], T0 + 1000, false)
  const late = l.pgStragglers(T0 + 2600, 1500, 10_000, 10)
  t.same(late.map((o) => [o.accession, o.version]), [['A1', 2]], 'version 2: its status came 1.6 s ago')
  t.same(l.pgStragglers(T0 + 3000, 1500, 10_000, 10), [], 'looked up at most every 5 s')
  t.same(l.pgStragglers(T0 + 10_000, 1500, 10_000, 10).map((o) => o.accession), ['A1', 'B1'], 'A1 v2 again 5 s after its lookup; B1, without status, 10 s after its answer')
  t.ok(l.pgSeen(late[0].id, 'rid-a', T0 + 15, T0 + 2700))
  t.notOk(l.pgSeen(late[0].id, 'rid-a', T0 + 15, T0 + 2700), 'seen once')
})

t.test('SubmissionSource: generated ahead within the budget, then on the spot, in one order; bodies are the items\' JSON', async (t) => {
  const opts = { seed: 7, labs: 3, clock: () => Date.UTC(2026, 0, 15, 12) }
  const ahead = new SubmissionSource(new SyntheticLabs(opts), 50)
  ahead.prefill(4, 1e9)
  t.equal(ahead.readyCount, 4)
  const live = new SyntheticLabs(opts)
  for (let k = 0; k < 6; k++) {
    const p = ahead.next()
    const items = live.batch(k % 3, 50)
    t.equal(p.labIndex, k % 3, 'labs in turn')
    t.equal(p.body.toString(), JSON.stringify(items.map((x) => x.item)), `submission ${k} as the generator makes it`)
    t.same(p.booking, bookingOf(live.labIds[k % 3], items))
  }
  t.equal(ahead.lateGenerated, 2, 'past the ready ones, generated on the spot')
  const small = new SubmissionSource(new SyntheticLabs(opts), 50)
  small.prefill(100, 1)
  t.equal(small.readyCount, 1, 'the byte budget stops the generation ahead')
})

t.test('SubmissionSource with a spill file: bodies read back byte for byte, in order, and the file is unlinked at once', async (t) => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'sidep-spill-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const opts = { seed: 9, labs: 2, clock: () => Date.UTC(2026, 0, 15, 12) }
  const spilled = new SubmissionSource(new SyntheticLabs(opts), 40, join(dir, 'bodies'))
  t.same(readdirSync(dir), [], 'no file left behind, even before close')
  spilled.prefill(3, 1e9)
  const live = new SubmissionSource(new SyntheticLabs(opts), 40)
  for (let k = 0; k < 5; k++) {
    const a = spilled.next()
    const b = live.next()
    t.equal(a.body.toString(), b.body.toString(), `submission ${k}`)
    t.same([a.labIndex, a.items, a.booking], [b.labIndex, b.items, b.booking])
  }
  t.equal(spilled.lateGenerated, 2)
  spilled.close()
})

t.test('SubmissionSource.pregenerate: a worker thread generates the whole schedule as the generator does here; past it next() throws; a short budget is an error', async (t) => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'sidep-pregen-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const opts = { seed: 11, labs: 3, runId: 'rtest' }
  const src = await SubmissionSource.pregenerate(opts, 30, 5, 1e9, join(dir, 'bodies'))
  t.same(readdirSync(dir), [], 'the spill file is unlinked')
  t.equal(src.readyCount, 5)
  const live = new SyntheticLabs(opts)
  for (let k = 0; k < 5; k++) {
    const p = src.next()
    const items = live.batch(k % 3, 30)
    t.equal(p.labIndex, k % 3)
    t.same(p.booking, bookingOf(live.labIds[k % 3], items), `submission ${k}: booking as generated here`)
    t.same((JSON.parse(p.body.toString()) as { accession: string }[]).map((x) => x.accession), items.map((x) => x.item.accession), `submission ${k}: body items`)
    // the booking made in the thread reads back here (nothing interned per thread): the ledger's keys match the items
    const l = new BenchLedger(T0)
    l.answer(l.submitBooking(p.booking, T0), p.items, [], T0)
    const stored = items.filter((x) => x.expected === 'stored')
    t.same(l.pendingPg().filter((o) => o.version === 1).map((o) => [o.labId, o.accession, o.loinc]), stored.map((x) => [x.labId, x.item.accession, x.item.loinc]), `submission ${k}: keys as the items'`)
  }
  t.throws(() => src.next(), { code: 'BENCH_SCHEDULE_EXHAUSTED' })
  src.close()
  await t.rejects(SubmissionSource.pregenerate(opts, 30, 50, 1, join(dir, 'small')), { code: 'BENCH_PREGENERATE_BUDGET' })
})
