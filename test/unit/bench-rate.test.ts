import t from 'tap'
import { Pacer, runPaced } from '../../bench/lib/rate.ts'

/** a hand-driven clock: no timing in these tests, only schedule arithmetic */
function fakeClock(): { now: () => number; set: (ms: number) => void } {
  let ms = 0
  return { now: () => ms, set: (v) => (ms = v) }
}

t.test('releases whole batches on schedule', async (t) => {
  const c = fakeClock()
  const p = new Pacer({ rate: 1000, batch: 100, now: c.now })
  p.start(0)
  t.equal(p.take(0), 0, 'nothing due at t=0')
  t.equal(p.delayMs(0), 100, 'first batch due at 100 ms (100 items at 1000/s)')
  t.equal(p.take(99), 0, 'not yet at 99 ms')
  t.equal(p.take(100), 100, 'one batch at 100 ms')
  t.equal(p.take(150), 0, 'nothing more at 150 ms')
  t.equal(p.delayMs(150), 50, 'next batch in 50 ms')
  t.equal(p.take(200), 100)
  const s = p.stats(200)
  t.equal(s.released, 200)
  t.equal(s.achievedRate, 1000, '200 items in 200 ms = 1000/s')
  t.equal(s.behind, 0)
})

t.test('catches up after a stall without bursting beyond the bound', async (t) => {
  const p = new Pacer({ rate: 1000, batch: 100, maxBurstBatches: 4, maxLagMs: 2000 })
  p.start(0)
  t.equal(p.take(1000), 400, 'at most 4 batches at once')
  t.equal(p.stats(1000).behind, 600, '600 items still owed')
  t.equal(p.delayMs(1000), 0, 'the next batch is already due')
  t.equal(p.take(1000), 400)
  t.equal(p.take(1000), 200, 'the rest of the debt')
  t.equal(p.take(1000), 0, 'caught up')
  t.equal(p.stats(1000).shed, 0, 'nothing shed within maxLagMs')
})

t.test('sheds debt beyond maxLagMs and reports it', async (t) => {
  const p = new Pacer({ rate: 1000, batch: 100, maxBurstBatches: 4, maxLagMs: 1000 })
  p.start(0)
  t.equal(p.take(5000), 400)
  const s = p.stats(5000)
  t.equal(s.shed, 4000, '5000 due, 1000 kept as debt, 4000 shed')
  t.equal(s.behind, 600)
  t.equal(s.achievedRate, 80, '400 items in 5 s')
})

t.test('steady ticks hold the target rate; fractional rates accumulate', async (t) => {
  const p = new Pacer({ rate: 2500, batch: 100 })
  p.start(0)
  let sent = 0
  for (let ms = 1; ms <= 10_000; ms++) sent += p.take(ms)
  t.equal(sent, 25_000, '2500/s for 10 s')
  t.equal(p.stats(10_000).achievedRate, 2500)
  const slow = new Pacer({ rate: 0.5, batch: 1 })
  slow.start(0)
  t.equal(slow.take(1999), 0)
  t.equal(slow.take(2000), 1, 'one item every 2 s')
})

t.test('rejects bad options', async (t) => {
  t.throws(() => new Pacer({ rate: 0, batch: 1 }), RangeError)
  t.throws(() => new Pacer({ rate: 10, batch: 0 }), RangeError)
  t.throws(() => new Pacer({ rate: 10, batch: 1.5 }), RangeError)
  t.throws(() => new Pacer({ rate: Number.NaN, batch: 1 }), RangeError)
})

t.test('runPaced sends exactly what the pacer released', async (t) => {
  const p = new Pacer({ rate: 2000, batch: 20 })
  let sent = 0
  let calls = 0
  const stats = await runPaced({
    pacer: p,
    durationMs: 150,
    send: (n) => {
      calls++
      sent += n
      t.equal(n % 20, 0, 'whole batches')
    },
  })
  t.equal(sent, stats.released, 'every released item was handed to send()')
  t.ok(calls > 0, 'send was called')
  const ac = new AbortController()
  ac.abort()
  const aborted = await runPaced({ pacer: new Pacer({ rate: 1000, batch: 1 }), durationMs: 60_000, send: () => undefined, signal: ac.signal })
  t.equal(aborted.released, 0, 'an aborted run stops at once')
})
