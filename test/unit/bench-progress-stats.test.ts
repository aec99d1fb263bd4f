import t from 'tap'
import { Writable } from 'node:stream'
import { compact, createProgress } from '../../bench/lib/progress.ts'
import { ProcessSampler, readCpuSeconds, readMemory, readSystemCpu } from '../../bench/lib/process-stats.ts'

function sink(): Writable & { text: string; isTTY?: boolean } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk)
      cb()
    },
  }) as Writable & { text: string }
  w.text = ''
  return w
}

t.test('TTY: one line rewritten with carriage returns', async (t) => {
  const out = sink()
  let now = 0
  const p = createProgress({ stream: out, tty: true, ttyIntervalMs: 100, now: () => now })
  p.update('sent 100')
  now = 50
  p.update('sent 200') // throttled
  now = 150
  p.update('sent 300')
  p.done()
  t.equal(out.text, '\rsent 100\x1b[K\rsent 300\x1b[K\n')
})

t.test('not a TTY: plain lines at the interval', async (t) => {
  const out = sink()
  let now = 0
  const p = createProgress({ stream: out, tty: false, intervalMs: 5000, now: () => now })
  p.update('a')
  now = 1000
  p.update('b')
  now = 5000
  p.update('c')
  now = 6000
  p.update('d')
  p.done('final')
  p.update('ignored after done')
  t.equal(out.text, 'a\nc\nfinal\n')
  t.notOk(out.text.includes('\r'), 'no carriage return in logs')
  t.equal(compact(12_345), '12.3k')
  t.equal(compact(2_500_000), '2.5M')
  t.equal(compact(999), '999')
})

t.test('procfs readings of this process', async (t) => {
  const m = readMemory(process.pid)
  t.ok(m && m.rssMb > 1, 'RSS in MB')
  t.ok(m && m.peakRssMb >= m.rssMb, 'peak >= current')
  const cpu = readCpuSeconds(process.pid)
  t.ok(cpu !== null && cpu >= 0, 'CPU seconds')
  t.equal(readMemory(2 ** 22 + 12345), null, 'a missing pid reads as null')
  const sys = readSystemCpu()
  t.ok(sys && sys.total > 0 && sys.busy >= 0 && sys.busy <= sys.total)
})

t.test('sampler over time', async (t) => {
  const s = new ProcessSampler({ self: process.pid, ghost: 2 ** 22 + 12345 }, 20).start()
  let x = 0
  const until = performance.now() + 120
  while (performance.now() < until) x += Math.sqrt(x + 1) // some CPU to measure
  await new Promise((r) => setTimeout(r, 60))
  const sum = s.stop()
  const self = sum.processes.self
  t.ok(self.samples.length >= 2, `several samples (${self.samples.length})`)
  t.ok(self.rssMbMax > 0 && self.rssMbMax >= self.rssMbLast)
  t.ok(self.cpuPctMean >= 0, 'CPU % computed')
  t.equal(self.gone, false)
  t.equal(sum.processes.ghost.gone, true, 'a missing pid is reported gone')
  t.ok(sum.system.busyPctMean >= 0 && sum.system.busyPctMean <= 100 || Number.isNaN(sum.system.busyPctMean))
  t.throws(() => new ProcessSampler({ bad: -1 }), RangeError)
})
