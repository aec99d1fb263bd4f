/**
 * PostgreSQL cost of the certifier's writes (issue 3: every CPU-microsecond per result counts): a scratch
 * database gets the migrations and N results, then batches go through the certifier's PostgreSQL calls as
 * certifier.ts makes them (lab names, cached; then one call recording certificates, skips, revocations).
 * Measured: the PostgreSQL backend's CPU (/proc/<pg_backend_pid()>/stat utime+stime, the pool has one
 * connection) per result, and this process's CPU; wall time is printed but is noisy on a shared machine.
 * The scratch database is dropped at the end.
 *
 *   npx tsx bench/dcc-store.ts [--batches 60] [--batch 500] [--rounds 3] [--explain]
 *
 * --explain: auto_explain every statement of the session, the function's nested ones included, with row
 * counts and durations (no per-node timing), into the server log (/var/log/postgresql/); CPU figures are then
 * not comparable. walBytesPerResult: pg_current_wal_insert_lsn before and after each round (the cluster's
 * WAL: another session writing meanwhile adds to it).
 */
import { createHash, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { migratePostgres } from '../pipeline/postgres/migrate.ts'
import { createPgPool } from '../pipeline/postgres/pool.ts'
import * as store from '../pipeline/certifier/certificate-store.ts'
import { LabNames } from '../pipeline/certifier/lab-names.ts'
import { readCpuSeconds } from './lib/process-stats.ts'

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '60' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    'skip-share': { type: 'string', default: '0.1' },
    explain: { type: 'boolean', default: false },
  },
})
const batches = Number(values.batches)
const batchSize = Number(values.batch)
const rounds = Number(values.rounds)
const skipShare = Number(values['skip-share'])

/** the backend's CPU time in µs (utime + stime, proc(5)) */
function backendCpuUs(pid: number): number {
  return (readCpuSeconds(pid) ?? Number.NaN) * 1e6
}

const dbName = `sidep_dccbench_${randomBytes(4).toString('hex')}`
const url = `postgres://root@127.0.0.1:5432/${dbName}`
await migratePostgres(url)
const pool = createPgPool(url, 1)
const admin = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/postgres' })
try {
  const total = batches * batchSize * rounds
  await pool.query(`INSERT INTO labs (lab_id, name, token_hash) VALUES ('lab_bench', 'Laboratoire de test', '\\x00')`)
  await pool.query(`INSERT INTO patients (family_norm, given_norm, birth_date, sex, family, given)
                    SELECT 'DUPONT' || g, 'MARIE', '1984-03-12', 'F', 'Dupont' || g, '{Marie}' FROM generate_series(1, $1) g`, [Math.ceil(total / 100) + 1])
  const { rows } = await pool.query(
    `INSERT INTO results (lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                          patient_id, pseudonym, key_id, test_type, result, sampled_at, record)
     SELECT 'lab_bench', 'B-' || g, '94558-4', 1, 'final', '\\x00', now(), g, 0, 1 + g / 100, 'p', 'k', 'antigen', '260415000', now(), '{}'
       FROM generate_series(1, $1) g
     RETURNING result_id::text AS id`, [total])
  const ids = rows.map((r) => r.id as string)
  await pool.query('VACUUM ANALYZE results')
  const { rows: [{ pid }] } = await pool.query('SELECT pg_backend_pid() AS pid')
  if (values.explain) {
    await pool.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
                      SET auto_explain.log_analyze = on; SET auto_explain.log_timing = off`)
  }
  const hc1 = 'HC1:' + 'NCFOXN%TSMAHN-HZL497V56V7L6.SNRA245JD+4HW05B9.Q3.PVXG40CE7RM'.repeat(10)
  const perRound: Array<{ pgUsPerResult: number; nodeUsPerResult: number; wallUsPerResult: number; walBytesPerResult: number }> = []
  const labNames = new LabNames(pool)
  let next = 0
  for (let round = 0; round < rounds; round++) {
    const lsn0 = (await pool.query('SELECT pg_current_wal_insert_lsn() AS l')).rows[0].l as string
    const pg0 = backendCpuUs(pid)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let b = 0; b < batches; b++) {
      const batchIds = ids.slice(next, next + batchSize)
      next += batchSize
      await labNames.load(['lab_bench'])
      const issued: store.IssuedCertificate[] = []
      const skipped: store.SkippedResult[] = []
      batchIds.forEach((id, i) => {
        if (i < batchSize * skipShare) { skipped.push({ resultId: id, version: 1, reason: 'SEROLOGY' }); return }
        const ci = `URN:UVCI:01:FR:${randomBytes(12).toString('hex').toUpperCase()}#A`
        issued.push({ resultId: id, version: 1, labId: 'lab_bench', ci, ciHash: createHash('sha256').update(ci).digest(), hc1, kid: 'AAAAAAAAAAA=', iat: 1_790_000_000, exp: 1_790_259_200 })
      })
      const outcome = await store.writeCertificates(pool, batchIds, issued, skipped)
      if (outcome.issued !== issued.length || outcome.skipped !== skipped.length) throw new Error(`unexpected outcome ${JSON.stringify(outcome)}`)
    }
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const pg1 = backendCpuUs(pid)
    const wal = (await pool.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 AS d', [lsn0])).rows[0].d as number
    const n = batches * batchSize
    perRound.push({ pgUsPerResult: (pg1 - pg0) / n, nodeUsPerResult: (cpu.user + cpu.system) / n, wallUsPerResult: (wall * 1000) / n, walBytesPerResult: wal / n })
  }
  const median = (k: keyof (typeof perRound)[0]) => perRound.map((r) => r[k]).sort((a, b) => a - b)[perRound.length >> 1]
  const out = { bench: 'dcc.store', batch: batchSize, batches, rounds, skipShare, pgUsPerResult: Number(median('pgUsPerResult').toFixed(1)), nodeUsPerResult: Number(median('nodeUsPerResult').toFixed(1)), wallUsPerResult: Number(median('wallUsPerResult').toFixed(1)), walBytesPerResult: Math.round(median('walBytesPerResult')), perRound }
  console.log(`| DCC store (batch ${batchSize}, ${Math.round(skipShare * 100)} % skipped) | PostgreSQL backend ${out.pgUsPerResult} µs CPU/result | node ${out.nodeUsPerResult} µs CPU/result | wall ${out.wallUsPerResult} µs/result | WAL ${out.walBytesPerResult} B/result |`)
  console.log(JSON.stringify(out))
} finally {
  await pool.end()
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
}
