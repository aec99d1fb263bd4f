// CPU by process group (bench/lib/cpu-groups.ts): /proc stat parsing, grouping of processes, and the
// figures of a window between two scans. Pure: no /proc reads.
import t from 'tap'
import { groupOf, parseStat, threadGroupOf, windowFigures, type GroupRoots } from '../../bench/lib/cpu-groups.ts'

const roots: GroupRoots = { platform: 100, driver: 200, wrappers: new Set([190, 180]), pgDatabase: 'sidep_bench' }

t.test('parseStat reads pid, comm (spaces and parentheses included), ppid, utime + stime and start time', async (t) => {
  const line = '4242 (V8 (Default) Wo) S 4200 4242 4242 0 -1 4194560 1 0 0 0 150 27 0 0 20 0 12 0 987654 1000 100 18446744073709551615'
  t.same(parseStat(line), { pid: 4242, comm: 'V8 (Default) Wo', ppid: 4200, ticks: 177, start: 987654 })
  t.equal(parseStat('garbage'), null)
})

t.test('groupOf: the platform, the driver and its wrappers, PostgreSQL by database, servers, the rest', async (t) => {
  const g = (pid: number, comm: string, cmdline = ''): string => groupOf({ pid, comm, cmdline }, roots)
  t.equal(g(100, 'node'), 'platform')
  t.equal(g(200, 'node'), 'bench driver')
  t.equal(g(190, 'node'), 'bench wrappers (npm/tsx)')
  t.equal(g(300, 'postgres', 'postgres: 15/main: root sidep_bench 127.0.0.1(41234) idle'), 'postgres (bench database)')
  t.equal(g(301, 'postgres', 'postgres: 15/main: root sidep_t1 127.0.0.1(41236) INSERT'), 'postgres (other databases)')
  t.equal(g(302, 'postgres', 'postgres: 15/main: walwriter'), 'postgres (background)')
  t.equal(g(303, 'postgres', 'postgres: 15/main: autovacuum worker'), 'postgres (background)')
  t.equal(g(304, 'postgres', '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main'), 'postgres (background)')
  t.equal(g(400, 'clickhouse-serv', 'clickhouse-server --daemon'), 'clickhouse-server')
  t.equal(g(500, 'nats-server'), 'nats-server')
  t.equal(g(600, 'bash'), 'other processes')
  t.equal(threadGroupOf(100, 100, 'node'), 'platform thread: main')
  t.equal(threadGroupOf(101, 100, 'libuv-worker'), 'platform thread: libuv-worker')
})

t.test('windowFigures: deltas per group, processes born in the window count whole, % of a core and µs per result', async (t) => {
  const groups = new Map([['100@1', 'platform'], ['300@5', 'postgres (bench database)'], ['301@9', 'postgres (bench database)'], ['200@2', 'bench driver'], ['t101@3', 'platform thread: node']])
  const from = { at: 0, ticks: new Map([['100@1', 1000], ['300@5', 50], ['200@2', 10], ['t101@3', 400]]) }
  // 10 s later: the platform used 15 s (150 %), a new backend appeared with 20 ticks, the old one 30 more
  const to = { at: 10_000, ticks: new Map([['100@1', 2500], ['300@5', 80], ['301@9', 20], ['200@2', 10], ['t101@3', 1000]]) }
  const w = windowFigures('load', from, to, groups, 100, 50_000)
  t.equal(w.seconds, 10)
  t.same(w.groups.map((x) => x.group), ['platform', 'postgres (bench database)', 'platform thread: node'], 'by CPU, threads last, idle groups left out')
  t.same(w.groups[0], { group: 'platform', cpu_s: 15, cpu_pct: 150, us_per_result: 300 })
  t.same(w.groups[1], { group: 'postgres (bench database)', cpu_s: 0.5, cpu_pct: 5, us_per_result: 10 })
  t.equal(windowFigures('x', from, to, groups, 100, 0).groups[0].us_per_result, null, 'no result committed: no per-result figure')
})
