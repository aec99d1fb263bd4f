// A short bench run against the real local services (NATS, PostgreSQL, ClickHouse): the platform as a
// child process on stores of its own (random names, so it never meets a concurrent test or the real
// bench), a few seconds at a low rate over HTTP. Asserts the report's shape and that nothing was lost;
// no timing thresholds (the figures are the bench's business).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBench, splitArgs, storesFor } from '../../bench/run.ts'
import { dropStores } from '../../bench/lib/bench-platform.ts'

t.test('a 5 s bench run at 300/s with 2 labs writes a complete report and loses nothing', async (t) => {
  const id = randomBytes(4).toString('hex')
  const out = mkdtempSync(join(tmpdir(), 'sidep-bench-smoke-'))
  const name = `bencht${id}`
  const stores = storesFor(name, out)
  t.teardown(async () => {
    await dropStores(stores).catch(() => undefined)
    rmSync(out, { recursive: true, force: true })
  })
  const { runner, bench } = splitArgs([
    '--rate', '300', '--duration', '5s', '--labs', '2', '--batch', '50', '--transport', 'http',
    '--out', out, '--name', 'smoke', '--ceiling-duration', '1s', '--drain', '60s', '--stores', name,
    '--platform-env', 'SIDEP_WORKER_THREADS=1',
  ])
  const progress = { write: () => true } as unknown as NodeJS.WritableStream
  const r = await runBench(bench, runner, { stores, progress, plot: false })

  t.ok(existsSync(r.latestPath), 'latest.json written')
  t.ok(existsSync(r.mdPath), 'Markdown report written')
  const report = JSON.parse(readFileSync(r.latestPath, 'utf8'))
  for (const k of ['throughput_rps', 'pg_rps', 'ch_rps', 'p50_ms', 'p95_ms', 'p99_ms', 'ceiling_rps', 'ratio', 'rss_mb']) {
    t.type(report[k], 'number', `${k} is a number`)
  }
  t.ok(report.machine && report.machine.cores > 0 && report.machine.memory_mb > 0, 'machine described')
  t.equal(report.options.rate, 300)
  t.equal(report.options.transport, 'http')
  for (const store of ['pg', 'ch', 'both']) t.ok(report.latency[store].count > 0, `${store} latencies recorded`)
  t.ok(report.ratio > 0, 'ratio to the ceiling')
  t.ok(report.throughput_rps > 0 && report.pg_rps > 0 && report.ch_rps > 0, 'rates measured')

  const c = report.correctness
  t.ok(c.drained, 'drained')
  t.ok(c.expected_results > 0)
  t.equal(c.pg_results, c.expected_results, 'PostgreSQL holds every expected result')
  t.equal(c.ch_results, c.expected_results, 'ClickHouse holds every expected result')
  t.same(c.pg_states, Object.fromEntries(Object.entries(c.expected_states).filter(([, n]) => (n as number) > 0)), 'states per result as expected')
  t.ok(c.item_statuses_equal, 'per-item statuses as expected')
  t.equal(report.counts.submissions_failed, 0)
  t.equal(report.counts.unexpected_rejections, 0)
  t.same(report.rejected_by_code, Object.fromEntries(Object.entries(report.expected_rejected_by_code).filter(([, n]) => (n as number) > 0)), 'rejections by code as expected')
  t.ok(c.ok, 'nothing lost')
})
