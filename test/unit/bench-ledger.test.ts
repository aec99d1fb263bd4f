// The bench's bookkeeping (bench/lib/ledger.ts): expected outcomes per item, versions per key, latency
// matching between the ingest answer, PostgreSQL and ClickHouse, and rejection codes. Pure: no servers.
import t from 'tap'
import { BenchLedger, INVALID_REASON_CODES } from '../../bench/lib/ledger.ts'
import { SyntheticLabs, type GeneratedItem, type LabResultItem } from '../../bench/lib/synthetic-labs.ts'
import { parsePrometheus, stageFigures, sidepEnv } from '../../bench/lib/bench-platform.ts'
import { splitArgs, storesFor } from '../../bench/run.ts'

const T0 = 1_700_000_000_000

function item(accession: string, over: Partial<LabResultItem> = {}): LabResultItem {
  return {
    accession, loinc: '94500-6', result: '260415000', status: 'final',
    sampledAt: '2026-01-01T08:00:00+01:00', resultedAt: '2026-01-01T10:00:00+01:00',
    patient: { family: 'Dupont', given: ['Marie'], birthDate: '1984-03-12', sex: 'F' },
    ...over,
  }
}
const g = (labId: string, it: LabResultItem, kind: GeneratedItem['kind'], expected: GeneratedItem['expected'], invalid?: GeneratedItem['invalid']): GeneratedItem =>
  ({ labId, item: it, kind, expected, ...(invalid ? { invalid } : {}) })

t.test('versions per key: new → 1, correction → 2, cancellation → 3; resends and invalid items write nothing', async (t) => {
  const l = new BenchLedger(T0)
  const a = item('A1')
  const s1 = l.submit('lab1', [g('lab1', a, 'new', 'stored'), g('lab1', item('BAD', { loinc: '00000-0' }), 'invalid', 'rejected', { reason: 'unknown-loinc', field: 'loinc' })], T0)
  l.answer(s1, 1, [{ index: 1, code: 'UNKNOWN_LOINC', field: 'loinc' }], T0 + 5)
  const s2 = l.submit('lab1', [g('lab1', { ...a, status: 'corrected', result: '260373001' }, 'correction', 'corrected'), g('lab1', a, 'resend', 'duplicate')], T0 + 10)
  l.answer(s2, 2, [], T0 + 15)
  const s3 = l.submit('lab1', [g('lab1', { ...a, status: 'cancelled' }, 'cancellation', 'cancelled')], T0 + 20)
  l.answer(s3, 1, [], T0 + 25)
  const pending = l.pendingPg()
  t.same(pending.map((o) => [o.accession, o.version]), [['A1', 1], ['A1', 2], ['A1', 3]], 'one observation per version written')
  t.same(l.expected, { stored: 1, duplicate: 1, corrected: 1, cancelled: 1, rejected: 1 })
  t.same(l.expectedStates(), { final: 0, corrected: 0, cancelled: 1 }, 'the key ends cancelled')
  t.equal(l.expectedKeys, 1)
  t.same(l.observedCodes, { UNKNOWN_LOINC: 1 })
  t.same(l.expectedCodes, { UNKNOWN_LOINC: 1 })
  t.same(l.mismatches, [])
})

t.test('latency: PostgreSQL stamp and poll time, ClickHouse inserted_ms, both = the later store', async (t) => {
  const l = new BenchLedger(T0)
  const s = l.submit('lab1', [g('lab1', item('A1'), 'new', 'stored'), g('lab1', item('A2'), 'new', 'stored')], T0 + 100)
  l.answer(s, 2, [], T0 + 150)
  const [o1, o2] = l.pendingPg()
  // ClickHouse before the bench matched the PostgreSQL row: kept until it is
  l.chSeen('rid-2', 1, T0 + 900)
  l.pgSeen(o1.id, 'rid-1', T0 + 400, T0 + 600)
  l.pgSeen(o2.id, 'rid-2', T0 + 500, T0 + 700)
  t.equal(l.pgPendingCount, 0)
  t.equal(l.chPendingCount, 1, 'rid-1 still waits for ClickHouse')
  l.chSeen('rid-1', 1, T0 + 1100)
  l.chSeen('rid-1', 1, T0 + 1200) // seen again: ignored
  t.ok(l.complete === false, 'the status message is still missing')
  l.status(s, [{ index: 0, status: 'stored', resultId: 'rid-1' }, { index: 1, status: 'stored', resultId: 'rid-2' }], T0 + 800, false)
  t.ok(l.complete)
  t.same(l.pgLatency.summary().max, 400)
  t.same(l.pgObservedLatency.summary().max, 600)
  t.same([l.chLatency.summary().min, l.chLatency.summary().max], [800, 1000])
  t.same([l.bothLatency.summary().min, l.bothLatency.summary().max], [800, 1000])
  t.equal(l.statusLatency.summary().max, 700)
  t.equal(l.counts.pg_versions, 2)
  t.equal(l.counts.ch_versions, 2)
  // rates: versions over first send → last commit in that store
  t.equal(l.storeRate('pg'), 2000 / 500)
  t.equal(l.storeRate('ch'), 2000 / 1100)
  const series = l.series()
  t.equal(series[0].sent, 2)
  t.same([series[0].ch, series[1].ch], [1, 1], 'bucketed by inserted_ms')
  t.equal(series[1].p99_ms, 1000)
})

t.test('an unexpected rejection withdraws the item and every later version of its key', async (t) => {
  const l = new BenchLedger(T0)
  const a = item('A1')
  const s1 = l.submit('lab1', [g('lab1', a, 'new', 'stored')], T0)
  const s2 = l.submit('lab1', [g('lab1', { ...a, status: 'corrected' }, 'correction', 'corrected')], T0)
  l.answer(s1, 0, [{ index: 0, code: 'INVALID_VALUE', field: 'patient.family' }, { index: 0, code: 'OTHER' }], T0 + 1)
  t.equal(l.counts.unexpected_rejections, 1)
  t.equal(l.expected.stored, 0)
  t.equal(l.expected.rejected, 1, 'booked as what happened')
  t.same(l.observedCodes, { INVALID_VALUE: 1 }, 'one count per item')
  t.equal(l.mismatches.length, 1)
  l.answer(s2, 1, [], T0 + 2)
  t.equal(l.pendingPg().length, 1, 'the correction was booked before the refusal was known')
  t.equal(l.expectedKeys, 0)
})

t.test('NATS: rejections come from the status message; a wrong code is a mismatch; missed rejections counted', async (t) => {
  const l = new BenchLedger(T0)
  const items = [
    g('lab1', item('A1'), 'new', 'stored'),
    g('lab1', item('B1'), 'invalid', 'rejected', { reason: 'bad-nir-key', field: 'patient.ins' }),
    g('lab1', item('B2'), 'invalid', 'rejected', { reason: 'dates-reversed', field: 'resultedAt' }),
    g('lab1', item('B3'), 'invalid', 'rejected', { reason: 'unknown-loinc', field: 'loinc' }),
  ]
  const s = l.submit('lab1', items, T0)
  l.answer(s, 4, [], T0 + 1)
  l.status(s, [
    { index: 0, status: 'stored', resultId: 'r1' },
    { index: 1, status: 'rejected', resultId: null, error: { code: 'INVALID_NIR_KEY', field: 'patient.ins' } },
    { index: 2, status: 'rejected', resultId: null, error: { code: 'INVALID_DATE', field: 'sampledAt' } },
    { index: 3, status: 'stored', resultId: 'r3' },
  ], T0 + 50, true)
  t.same(l.observedCodes, { INVALID_NIR_KEY: 1, INVALID_DATE: 1 })
  t.same(l.expectedCodes, { INVALID_NIR_KEY: 1, SAMPLED_AFTER_RESULTED: 1, UNKNOWN_LOINC: 1 })
  t.equal(l.counts.missed_rejections, 1)
  t.equal(l.counts.status_mismatches, 1)
  t.same(l.mismatches.map((m) => m.expected), ['SAMPLED_AFTER_RESULTED', 'rejected'])
  t.same(l.observedStatus, { stored: 2, rejected: 2 })
})

t.test('a submission that could not be delivered withdraws its expectations', async (t) => {
  const l = new BenchLedger(T0)
  const s = l.submit('lab1', [g('lab1', item('A1'), 'new', 'stored'), g('lab1', item('B'), 'invalid', 'rejected', { reason: 'bad-nir-key', field: 'patient.ins' })], T0)
  l.failed(s)
  t.same(l.expected, { stored: 0, duplicate: 0, corrected: 0, cancelled: 0, rejected: 0 })
  t.same(l.expectedCodes, { INVALID_NIR_KEY: 0 })
  t.equal(l.counts.submissions_failed, 1)
  t.ok(l.complete)
})

t.test('with the real generator: expected counts add up and every invalid reason maps to a platform code', async (t) => {
  const gen = new SyntheticLabs({ seed: 3, labs: 3, clock: () => Date.UTC(2026, 0, 15, 12) })
  const l = new BenchLedger(T0)
  let sent = 0
  for (let k = 0; k < 30; k++) {
    const items = gen.batch(k % 3, 200)
    sent += items.length
    const s = l.submit(gen.labIds[k % 3], items, T0 + k)
    const rejected = items.flatMap((x, index) => (x.invalid ? [{ index, code: INVALID_REASON_CODES[x.invalid.reason].code }] : []))
    l.answer(s, items.length - rejected.length, rejected, T0 + k)
  }
  const e = l.expected
  t.equal(e.stored + e.duplicate + e.corrected + e.cancelled + e.rejected, sent)
  t.equal(l.expectedKeys, e.stored, 'one key per stored item')
  t.equal(l.pendingPg().length, e.stored + e.corrected + e.cancelled, 'one observation per version written')
  t.ok(e.duplicate > 0 && e.corrected > 0 && e.rejected > 0, 'the mix has resends, corrections and invalid items')
  t.same(l.observedCodes, l.expectedCodes)
  t.same(l.mismatches, [])
})

t.test('Prometheus parsing and per-stage figures (after − before)', async (t) => {
  const before = parsePrometheus('sidep_stage_seconds_sum{stage="postgres"} 1\nsidep_stage_seconds_count{stage="postgres"} 10\n')
  const after = parsePrometheus([
    '# HELP sidep_stage_seconds x', 'sidep_stage_seconds_sum{stage="postgres"} 3.5', 'sidep_stage_seconds_count{stage="postgres"} 20',
    'sidep_batch_size_sum{stage="postgres"} 5000', 'sidep_batch_size_count{stage="postgres"} 20',
    'sidep_stage_seconds_bucket{stage="postgres",le="+Inf"} 20',
  ].join('\n'))
  const s = stageFigures(after, before)
  t.same(s.postgres, { batches: 10, seconds: 2.5, mean_ms: 250, mean_batch: 250, items: 5000 })
})

t.test('runner flags are split from the bench options; store names and child env', async (t) => {
  const { runner, bench } = splitArgs(['--rate', '300', '--drain', '20s', '--platform-env', 'SIDEP_PROCESSOR_BATCH=128,SIDEP_CH_BATCH=500', '--labs=2', '--stores', 'bench_x'])
  t.equal(bench.rate, 300)
  t.equal(bench.labs, 2)
  t.equal(runner.drainMs, 20_000)
  t.same(runner.platformEnv, { SIDEP_PROCESSOR_BATCH: '128', SIDEP_CH_BATCH: '500' })
  t.equal(runner.storesName, 'bench_x')
  t.throws(() => splitArgs(['--platform-env', 'FOO=1']), /SIDEP_/)
  t.throws(() => splitArgs(['--nope']), /unknown option/)
  const stores = storesFor('bench', '/tmp')
  t.same(stores, { pgDatabase: 'sidep_bench', chDatabase: 'sidep_bench', subjectRoot: 'bench', streamPrefix: 'BENCH_', dataDir: '/tmp/sidep-bench-data' })
  const env = sidepEnv(stores, { SIDEP_PROCESSOR_BATCH: '128' })
  t.equal(env.SIDEP_PG_URL, 'postgres://root@127.0.0.1:5432/sidep_bench')
  t.equal(env.SIDEP_SUBJECT_ROOT, 'bench')
  t.equal(env.SIDEP_STREAM_PREFIX, 'BENCH_')
  t.equal(env.SIDEP_PROCESSOR_BATCH, '128')
  t.throws(() => sidepEnv(stores, { NODE_ENV: 'x' }), /SIDEP_/)
})

t.test('packed key states: tallies follow corrections, cancellations and withdrawals; ClickHouse newest kept for versions ≥ 2 only', async (t) => {
  const l = new BenchLedger(T0)
  const a = item('A1')
  const b = item('B1')
  const s1 = l.submit('lab1', [g('lab1', a, 'new', 'stored'), g('lab1', b, 'new', 'stored'), g('lab1', item('C1'), 'new', 'stored')], T0)
  const s2 = l.submit('lab1', [g('lab1', { ...a, status: 'corrected' }, 'correction', 'corrected'), g('lab1', { ...b, status: 'cancelled' }, 'cancellation', 'cancelled')], T0 + 1)
  const s3 = l.submit('lab1', [g('lab1', { ...a, status: 'corrected' }, 'correction', 'corrected')], T0 + 2)
  t.same(l.expectedStates(), { final: 1, corrected: 1, cancelled: 1 })
  l.answer(s1, 2, [{ index: 2, code: 'INVALID_VALUE' }], T0 + 3) // C1 refused: its key leaves the tallies
  l.answer(s2, 2, [], T0 + 3)
  l.answer(s3, 1, [], T0 + 3)
  t.same(l.expectedStates(), { final: 0, corrected: 1, cancelled: 1 })
  t.equal(l.expectedKeys, 2)
  const pend = l.pendingPg()
  t.same(pend.map((o) => [o.accession, o.version]), [['A1', 1], ['B1', 1], ['A1', 2], ['B1', 2], ['A1', 3]])
  // ClickHouse shows A1 v3 before PostgreSQL matched v1 and v2: they merged away, dated by v3's row
  l.chSeen('rid-a', 3, T0 + 50)
  l.chSeen('rid-b', 1, T0 + 40)
  for (const o of pend) l.pgSeen(o.id, o.accession === 'A1' ? 'rid-a' : 'rid-b', T0 + 20, T0 + 30)
  t.equal(l.chPendingCount, 1, 'only B1 v2 still waits for ClickHouse')
  l.chSeen('rid-b', 2, T0 + 60)
  t.equal(l.counts.ch_versions, 5)
  t.same([l.chLatency.summary().min, l.chLatency.summary().max], [40, 59])
})
