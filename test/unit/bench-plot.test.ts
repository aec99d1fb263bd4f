import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { niceMax, plotSvg, writePlotPng } from '../../bench/lib/plot.ts'

const series = Array.from({ length: 11 }, (_, i) => ({ t_s: i, sent_rps: 5000, accepted_rps: 4990, pg_rps: 4900, ch_rps: 4950, p99_ms: 700 + i }))

t.test('axis maxima', async (t) => {
  t.equal(niceMax(4990), 5000)
  t.equal(niceMax(5001), 10000)
  t.equal(niceMax(130), 200)
  t.equal(niceMax(0), 1)
})

t.test('SVG has one line per series present, and escapes the title', async (t) => {
  const svg = plotSvg(series, 'a < b & c')
  t.equal(svg.match(/<polyline/g)?.length, 5, '4 throughput lines + p99')
  t.match(svg, /a &lt; b &amp; c/)
  t.equal(plotSvg([{ t_s: 0, pg_rps: 1 }]).match(/<polyline/g)?.length, 1, 'absent series are not drawn')
})

t.test('PNG written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sidep-bench-plot-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = await writePlotPng(series, join(dir, 'p.png'), 'unit')
  t.equal(path, join(dir, 'p.png'))
  const png = await readFile(path!)
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature')
})
