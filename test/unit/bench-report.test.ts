import t from 'tap'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { machineInfo, reportStem, writeReport, type BenchReport } from '../../bench/lib/report.ts'
import { parseBenchOptions } from '../../bench/lib/options.ts'

t.test('writes dated JSON and Markdown and latest.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sidep-bench-report-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const options = parseBenchOptions(['--rate', '5000', '--name', 'unit'])
  const report: BenchReport = {
    throughput_rps: 4980.4,
    pg_rps: 4975,
    ch_rps: 4979,
    p50_ms: 210,
    p95_ms: 640,
    p99_ms: 1210,
    ceiling_rps: 400_000,
    ratio: 4980.4 / 400_000,
    rss_mb: 312.5,
    options: { ...options },
    latency: { postgres: { count: 10, p50_ms: 200, p95_ms: 600, p99_ms: 1200, max_ms: 1300, mode: 'exact' } },
    rejected_by_code: { UNKNOWN_LOINC: 12 },
    processes: { processor: { rss_mb_max: 312.5, rss_mb_last: 300, cpu_pct_mean: 140.2 } },
    ceiling: { itemsPerMessage: 100, publish: { messagesPerSec: 4000 } },
    notes: ['baseline'],
    unmeasured: Number.NaN,
  }
  const at = new Date(Date.UTC(2026, 10, 24, 9, 5))
  const w = await writeReport(report, { dir, at })
  t.equal(w.stem, '2026-11-24-0905-unit', 'name from the options, UTC date and time')
  t.same((await readdir(dir)).sort(), ['2026-11-24-0905-unit.json', '2026-11-24-0905-unit.md', 'latest.json'], 'three files, no temp left')
  const json = JSON.parse(await readFile(w.jsonPath, 'utf8'))
  for (const k of ['throughput_rps', 'pg_rps', 'ch_rps', 'p50_ms', 'p95_ms', 'p99_ms', 'ceiling_rps', 'ratio', 'rss_mb', 'machine', 'options']) {
    t.ok(k in json, `${k} present`)
  }
  t.equal(json.throughput_rps, 4980.4)
  t.equal(json.options.rate, 5000)
  t.type(json.machine.cores, 'number')
  t.type(json.machine.memory_mb, 'number')
  t.match(json.machine.node_version, /^v\d+/)
  t.equal(json.unmeasured, null, 'NaN written as null')
  t.equal(json.started_at, at.toISOString())
  t.same(JSON.parse(await readFile(w.latestPath, 'utf8')), json, 'latest.json is the same report')
  const md = await readFile(w.mdPath, 'utf8')
  t.match(md, /# Bench report 2026-11-24-0905-unit/)
  t.match(md, /accepted at ingest \(results\/s\) \| 4,980/)
  t.match(md, /UNKNOWN_LOINC \| 12/)
  t.match(md, /\| rate \| 5000 \|/)
  t.match(md, /## Machine/)

  const again = await writeReport({ ...report, throughput_rps: 1 }, { dir, at: new Date(Date.UTC(2026, 10, 25, 23, 59)), name: 'second run!' })
  t.equal(again.stem, '2026-11-25-2359-second-run-', 'unsafe name characters replaced')
  t.equal(JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')).throughput_rps, 1, 'latest.json follows the last run')
  t.equal((await readdir(dir)).length, 5, 'earlier reports kept')
})

t.test('machine info and stems', async (t) => {
  const m = machineInfo()
  t.ok(m.cores >= 1)
  t.ok(m.memory_mb > 0)
  t.equal(m.node_version, process.version)
  t.equal(reportStem(new Date(Date.UTC(2027, 0, 2, 3, 4)), 'x'), '2027-01-02-0304-x')
})
