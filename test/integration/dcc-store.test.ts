// The certifier's one-call write (certificate-store.ts, sql/postgres/005_certifier_record.sql) on a real
// PostgreSQL: only the current version gets a certificate, once; corrections and cancellations revoke; an
// unknown result id writes nothing (RESULT_UNKNOWN); the results rows stay locked FOR NO KEY UPDATE until
// commit (the ordering guarantee against the processor); overlapping batches in opposite orders never
// deadlock; deleting results deletes their certificates and skips (a statement-level cascade in place of
// the foreign keys).
import t from 'tap'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { migratePostgres } from '../../pipeline/postgres/migrate.ts'
import { createPgPool } from '../../pipeline/postgres/pool.ts'
import { writeCertificates, type IssuedCertificate } from '../../pipeline/certifier/certificate-store.ts'
import { LabNames } from '../../pipeline/certifier/lab-names.ts'

const ADMIN = 'postgres://root@127.0.0.1:5432/postgres'
const dbName = `sidep_t_dccstore_${randomBytes(4).toString('hex')}`
const url = `postgres://root@127.0.0.1:5432/${dbName}`
await migratePostgres(url)
const pool = createPgPool(url, 6)
t.teardown(async () => {
  await pool.end()
  const admin = new pg.Client({ connectionString: ADMIN })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
})

await pool.query(`INSERT INTO labs (lab_id, name, token_hash) VALUES ('lab-s', '  Laboratoire S ', '\\x01')`)
await pool.query(`INSERT INTO patients (family_norm, given_norm, birth_date, sex, family, given) VALUES ('A', 'B', '2000-01-01', 'F', 'A', '{B}')`)

async function addResults(n: number): Promise<string[]> {
  const { rows } = await pool.query(
    `INSERT INTO results (lab_id, accession, loinc, version, state, content_hash, resulted_at, arrival_seq, arrival_index,
                          patient_id, pseudonym, key_id, test_type, result, sampled_at, record)
     SELECT 'lab-s', 'S-' || gen_random_uuid(), '94558-4', 1, 'final', '\\x00', now(), g, 0, (SELECT min(patient_id) FROM patients), 'p', 'k', 'antigen', '260415000', now(), '{}'
       FROM generate_series(1, $1::int) g
     RETURNING result_id::text AS id`, [n])
  return rows.map((r) => r.id)
}

function cert(resultId: string, version: number): IssuedCertificate {
  const ci = `URN:UVCI:01:FR:${randomBytes(10).toString('hex').toUpperCase()}#A`
  return { resultId, version, labId: 'lab-s', ci, ciHash: createHash('sha256').update(ci).digest(), hc1: 'HC1:TEST', kid: 'AAAAAAAAAAA=', iat: 1_790_000_000, exp: 1_790_259_200 }
}

async function certificates(resultId: string) {
  const { rows } = await pool.query('SELECT version, revoked_reason FROM certificates WHERE result_id = $1 ORDER BY version', [resultId])
  return rows
}

t.test('current version only, once; corrections supersede, cancellations revoke', async (t) => {
  const [a, b, c] = await addResults(3)
  t.same(await writeCertificates(pool, [a, b, c], [cert(a, 1), cert(b, 1)], [{ resultId: c, version: 1, reason: 'SEROLOGY' }]),
    { issued: 2, skipped: 1, revoked: { superseded: 0, cancelled: 0 } })
  t.same(await writeCertificates(pool, [a, c], [cert(a, 1)], [{ resultId: c, version: 1, reason: 'SEROLOGY' }]),
    { issued: 0, skipped: 0, revoked: { superseded: 0, cancelled: 0 } }, 'a redelivery changes nothing')

  await pool.query(`UPDATE results SET version = 2, state = 'corrected' WHERE result_id = $1`, [a])
  await pool.query(`UPDATE results SET version = 2, state = 'cancelled' WHERE result_id = $1`, [b])
  t.same(await writeCertificates(pool, [a], [cert(a, 1)], []), { issued: 0, skipped: 0, revoked: { superseded: 1, cancelled: 0 } },
    'an overtaken version is not certified; the revocation pass looks at results, not at the batch')
  t.same(await writeCertificates(pool, [a, b], [cert(a, 2), cert(b, 2)], [{ resultId: b, version: 2, reason: 'CANCELLED' }]),
    { issued: 1, skipped: 1, revoked: { superseded: 0, cancelled: 1 } }, 'never a certificate for a cancelled version')
  t.same(await certificates(a), [{ version: 1, revoked_reason: 'superseded' }, { version: 2, revoked_reason: null }])
  t.same(await certificates(b), [{ version: 1, revoked_reason: 'cancelled' }])
})

t.test('an unknown result id: RESULT_UNKNOWN and nothing written', async (t) => {
  const [a] = await addResults(1)
  await t.rejects(writeCertificates(pool, [a, randomUUID()], [cert(a, 1)], []), { code: 'RESULT_UNKNOWN' })
  t.same(await certificates(a), [])
})

t.test('the results rows stay locked until commit: the processor cannot commit a newer version meanwhile', async (t) => {
  const [a] = await addResults(1)
  const certifier = await pool.connect()
  const processor = await pool.connect()
  t.teardown(() => { certifier.release(); processor.release() })
  await certifier.query('BEGIN')
  await certifier.query(`SELECT * FROM sidep_certifier_record($1::uuid[], $1::uuid[], '{1}', '{lab-s}', '{ci-lock}', '{"\\\\x01"}', '{HC1:X}', '{k}', '{0}', '{0}', '{}', '{}', '{}')`, [[a]])
  await t.rejects(processor.query(`SELECT 1 FROM results WHERE result_id = $1 FOR NO KEY UPDATE NOWAIT`, [a]), { code: '55P03' })
  await certifier.query('COMMIT')
  t.equal((await processor.query(`SELECT 1 FROM results WHERE result_id = $1 FOR NO KEY UPDATE NOWAIT`, [a])).rowCount, 1)
})

t.test('overlapping batches in opposite orders, concurrently: no deadlock, each result certified once', async (t) => {
  const ids = await addResults(200)
  const reversed = [...ids].reverse()
  const outcomes = await Promise.all([
    writeCertificates(pool, ids, ids.map((id) => cert(id, 1)), []),
    writeCertificates(pool, reversed, reversed.map((id) => cert(id, 1)), []),
    writeCertificates(pool, ids.slice(50, 150), ids.slice(50, 150).map((id) => cert(id, 1)), []),
  ])
  t.equal(outcomes.reduce((n, o) => n + o.issued, 0), 200)
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM certificates WHERE result_id = ANY($1::uuid[])', [ids])
  t.equal(rows[0].n, 200)
})

t.test('deleting results deletes their certificates and skips, and only theirs', async (t) => {
  const [a, b, c] = await addResults(3)
  await writeCertificates(pool, [a, b, c], [cert(a, 1), cert(b, 1)], [{ resultId: c, version: 1, reason: 'SEROLOGY' }])
  await pool.query('DELETE FROM results WHERE result_id = ANY($1::uuid[])', [[a, c]])
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM certificates WHERE result_id = ANY($1::uuid[])) AS certs,
            (SELECT count(*)::int FROM certificate_skips WHERE result_id = ANY($1::uuid[])) AS skips`, [[a, c]])
  t.same(rows[0], { certs: 0, skips: 0 })
  t.same(await certificates(b), [{ version: 1, revoked_reason: null }])
})

t.test('lab names: read once, cached, unknown labs absent', async (t) => {
  const names = new LabNames(pool)
  t.equal((await names.load(['lab-s', 'lab-nope'])).get('lab-s'), '  Laboratoire S ')
  await pool.query(`UPDATE labs SET name = 'Renamed' WHERE lab_id = 'lab-s'`)
  t.equal((await names.load(['lab-s'])).get('lab-s'), '  Laboratoire S ', 'cached within the TTL')
  t.notOk((await names.load(['lab-nope'])).has('lab-nope'))
  const fresh = new LabNames(pool, 0)
  await new Promise((resolve) => setTimeout(resolve, 2))
  t.equal((await fresh.load(['lab-s'])).get('lab-s'), 'Renamed')
})
