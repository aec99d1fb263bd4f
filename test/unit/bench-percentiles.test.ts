import t from 'tap'
import { LatencyRecorder, percentileOfSorted, summarize } from '../../bench/lib/percentiles.ts'

t.test('nearest-rank percentiles against hand-computed values', async (t) => {
  // Wikipedia's nearest-rank example: 15 20 35 40 50
  const w = [15, 20, 35, 40, 50]
  t.equal(percentileOfSorted(w, 5), 15, 'p5: rank ceil(0.25)=1')
  t.equal(percentileOfSorted(w, 30), 20, 'p30: rank ceil(1.5)=2')
  t.equal(percentileOfSorted(w, 40), 20, 'p40: rank 2')
  t.equal(percentileOfSorted(w, 50), 35, 'p50: rank ceil(2.5)=3')
  t.equal(percentileOfSorted(w, 100), 50, 'p100: the max')
  t.equal(percentileOfSorted(w, 0), 15, 'p0: the min')
  t.ok(Number.isNaN(percentileOfSorted([], 50)), 'no samples → NaN')
  t.throws(() => percentileOfSorted(w, 101), RangeError)
})

t.test('summary of 1..10 in random order', async (t) => {
  const s = summarize([7, 3, 10, 1, 9, 2, 8, 4, 6, 5])
  t.same(
    { count: s.count, min: s.min, mean: s.mean, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, mode: s.mode },
    { count: 10, min: 1, mean: 5.5, p50: 5, p95: 10, p99: 10, max: 10, mode: 'exact' },
    'p50 = rank 5 = 5, p95 = rank ceil(9.5) = 10, p99 = rank ceil(9.9) = 10',
  )
})

t.test('1..1000: p50 500, p95 950, p99 990 (exact mode, recorder)', async (t) => {
  const r = new LatencyRecorder()
  for (let i = 1000; i >= 1; i--) r.record(i)
  const s = r.summary()
  t.equal(s.p50, 500)
  t.equal(s.p95, 950)
  t.equal(s.p99, 990)
  t.equal(s.max, 1000)
  t.equal(r.percentile(99.9), 999)
  t.equal(s.mode, 'exact')
  t.equal(s.relativeError, 0)
})

t.test('histogram mode for many samples stays within its relative error', async (t) => {
  const r = new LatencyRecorder({ exactLimit: 1000, relativeError: 0.01 })
  // 1..200000 ms in a scrambled order (a fixed stride permutation: 7919 is prime to 200000)
  const n = 200_000
  for (let i = 0; i < n; i++) r.record(((i * 7919) % n) + 1)
  t.equal(r.mode, 'histogram', 'switched past the exact limit')
  const s = r.summary()
  t.equal(s.count, n)
  t.equal(s.min, 1, 'min exact')
  t.equal(s.max, n, 'max exact')
  t.equal(s.mean, (n + 1) / 2, 'mean exact')
  t.equal(s.relativeError, 0.01)
  for (const [p, truth] of [[50, 100_000], [95, 190_000], [99, 198_000]] as const) {
    const got = r.percentile(p)
    t.ok(Math.abs(got - truth) / truth <= 0.01, `p${p}: ${got} within 1% of ${truth}`)
  }
  t.equal(r.percentile(100), n, 'p100 is the exact max')
})

t.test('tiny values, non-finite values, empty recorder', async (t) => {
  const r = new LatencyRecorder({ exactLimit: 2, minValue: 0.001 })
  r.record(0)
  r.record(0.0001)
  r.record(5)
  r.record(Number.NaN)
  r.record(Number.POSITIVE_INFINITY)
  t.equal(r.count, 3, 'non-finite samples are ignored')
  t.equal(r.percentile(50), 0, 'values under minValue report as 0')
  t.equal(r.percentile(100), 5)
  const e = new LatencyRecorder().summary()
  t.equal(e.count, 0)
  t.ok(Number.isNaN(e.p99))
})
