import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createTestEnv } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'
import { WorkerPool } from '../../pipeline/workers-pool.ts'
import { applyToPostgres, outcomeKey, type ItemOutcome } from '../../pipeline/sinks/postgres-apply.ts'
import { encodeEnvelope } from '../../workers/envelope.ts'
import type { IngestMessage } from '../../workers/ingest-task.ts'

const HOUR = 3600_000
const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString()

t.test('one batch with every kind of item, applied once then redelivered', async (t) => {
  const env = await createTestEnv(t)
  await env.addLab('lab-b')
  const pool = new WorkerPool(1, { pseudonymKeyId: 'pk-t', pseudonymKey: randomBytes(32), sealKeyId: 'sk-t', sealKey: randomBytes(32) })
  t.teardown(() => pool.destroy())

  const insX = nirWithKey('1750620004012')
  const traits = { ins: undefined, given: ['Hélène'], birthDate: '1950-01-02', sex: 'F' }
  const a = [
    /* 0 */ makeItem({ accession: 'B-1', patient: { ins: insX, family: 'Martin', given: ['Paul'], sex: 'M' } }),
    /* 1 */ makeItem({ accession: 'B-2', patient: { ins: insX, family: 'Martin', given: ['Paul'], sex: 'M' } }),
    /* 2 */ makeItem({ accession: 'B-3', resultedAt: at(3) }),
    /* 3 */ makeItem({ accession: 'B-3', resultedAt: at(3) }),
    /* 4 */ makeItem({ accession: 'B-4', resultedAt: at(4) }),
    /* 5 */ makeItem({ accession: 'B-4', resultedAt: at(2), result: '260415000', status: 'corrected' }),
    /* 6 */ makeItem({ accession: 'B-5', resultedAt: at(1) }),
    /* 7 */ makeItem({ accession: 'B-5', resultedAt: at(5), result: '419984006' }),
    /* 8 */ makeItem({ accession: 'B-6', status: 'cancelled' }),
    /* 9 */ makeItem({ accession: 'B-7', patient: { ins: '284037512345600' } }), // wrong NIR key
  ]
  const b = [
    /* 0 */ makeItem({ accession: 'B-8', patient: { ...traits, family: "N'Diaye-Lefèvre" } }),
    /* 1 */ makeItem({ accession: 'B-9', patient: { ...traits, family: 'n’diaye  lefèvre', given: ['HELENE'] } }),
  ]
  const now = Date.now()
  const message = (seq: number, submissionId: string, items: unknown[]): IngestMessage => ({
    seq, labId: 'lab-b', fallbackSubmissionId: `lab-b:n-${seq}`, envelope: true, receivedAt: now,
    data: encodeEnvelope({ v: 1, submissionId, format: 'json', receivedAt: now, itemCount: items.length, items: items.map((item, index) => ({ index, item })), rejected: [] }),
  })
  const processed = await pool.process({ now, messages: [message(1, 'sub-a', a), message(2, 'sub-b', b)] })
  t.equal(processed.reduce((n, m) => n + m.pgRows.length, 0), 12, 'the workers built one row per item')

  const first = await applyToPostgres(env.pg, processed)
  t.equal(first.size, 12, 'one outcome per item')
  const o = (sub: string, i: number): ItemOutcome => first.get(outcomeKey(`lab-b:${sub}`, i))!
  const brief = (x: ItemOutcome) => ({ status: x.status, version: x.version, state: x.state, replay: x.replay })

  t.same(brief(o('sub-a', 0)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.same(brief(o('sub-a', 1)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.equal(o('sub-a', 0).patientId, o('sub-a', 1).patientId, 'the same INS twice in one batch is one patient')
  t.same(brief(o('sub-a', 2)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.same(brief(o('sub-a', 3)), { status: 'duplicate', version: 1, state: 'final', replay: false }, 'the same result twice in one batch')
  t.equal(o('sub-a', 3).resultId, o('sub-a', 2).resultId)
  t.same(brief(o('sub-a', 4)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.same(brief(o('sub-a', 5)), { status: 'corrected', version: 2, state: 'corrected', replay: false }, 'a correction in the same batch')
  t.equal(o('sub-a', 5).resultId, o('sub-a', 4).resultId)
  t.same(brief(o('sub-a', 6)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.same(brief(o('sub-a', 7)), { status: 'superseded', version: 1, state: 'final', replay: false }, 'an older version after a newer one')
  t.same(brief(o('sub-a', 8)), { status: 'cancelled', version: 1, state: 'cancelled', replay: false })
  t.same(o('sub-a', 9), { submissionId: 'lab-b:sub-a', index: 9, status: 'rejected', resultId: null, version: null, state: null, patientId: null, replay: false })
  t.same(brief(o('sub-b', 0)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.same(brief(o('sub-b', 1)), { status: 'stored', version: 1, state: 'final', replay: false })
  t.equal(o('sub-b', 0).patientId, o('sub-b', 1).patientId, 'the same traits spelled differently are one patient')
  t.not(o('sub-b', 0).patientId, o('sub-a', 0).patientId)
  t.not(o('sub-a', 2).patientId, o('sub-a', 0).patientId, 'another INS, another patient')

  const q = async (sql: string) => (await env.pg.query(sql)).rows
  t.same(await q(`SELECT accession, version, state, result FROM results ORDER BY accession`), [
    { accession: 'B-1', version: 1, state: 'final', result: '260373001' },
    { accession: 'B-2', version: 1, state: 'final', result: '260373001' },
    { accession: 'B-3', version: 1, state: 'final', result: '260373001' },
    { accession: 'B-4', version: 2, state: 'corrected', result: '260415000' },
    { accession: 'B-5', version: 1, state: 'final', result: '260373001' },
    { accession: 'B-6', version: 1, state: 'cancelled', result: '260373001' },
    { accession: 'B-8', version: 1, state: 'final', result: '260373001' },
    { accession: 'B-9', version: 1, state: 'final', result: '260373001' },
  ])
  t.same(await q(`SELECT r.accession, v.version, v.state, v.submission_id, v.item_index FROM result_versions v JOIN results r USING (result_id) ORDER BY r.accession, v.version`), [
    { accession: 'B-1', version: 1, state: 'final', submission_id: 'lab-b:sub-a', item_index: 0 },
    { accession: 'B-2', version: 1, state: 'final', submission_id: 'lab-b:sub-a', item_index: 1 },
    { accession: 'B-3', version: 1, state: 'final', submission_id: 'lab-b:sub-a', item_index: 2 },
    { accession: 'B-4', version: 1, state: 'final', submission_id: 'lab-b:sub-a', item_index: 4 },
    { accession: 'B-4', version: 2, state: 'corrected', submission_id: 'lab-b:sub-a', item_index: 5 },
    { accession: 'B-5', version: 1, state: 'final', submission_id: 'lab-b:sub-a', item_index: 6 },
    { accession: 'B-6', version: 1, state: 'cancelled', submission_id: 'lab-b:sub-a', item_index: 8 },
    { accession: 'B-8', version: 1, state: 'final', submission_id: 'lab-b:sub-b', item_index: 0 },
    { accession: 'B-9', version: 1, state: 'final', submission_id: 'lab-b:sub-b', item_index: 1 },
  ])
  // the record and contact are stored once: in results for the current version, in result_versions for a
  // version that a later one replaced (006); result_version_records shows every version with its own
  t.same(await q(`SELECT r.accession, v.version FROM result_versions v JOIN results r USING (result_id) WHERE v.record IS NOT NULL ORDER BY 1, 2`),
    [{ accession: 'B-4', version: 1 }], 'only the replaced version carries its record in result_versions')
  t.same(await q(`SELECT v.version, v.record->>'result' AS result, v.record->>'status' AS status, v.contact_sealed IS NOT NULL AS has_contact
                    FROM result_version_records v JOIN results r USING (result_id) WHERE r.accession = 'B-4' ORDER BY v.version`), [
    { version: 1, result: '260373001', status: 'final', has_contact: true },
    { version: 2, result: '260415000', status: 'corrected', has_contact: true },
  ], 'each version reads back with its own record and contact')
  const items = await q(`SELECT submission_id, item_index, status, version, error IS NOT NULL AS has_error FROM submission_items ORDER BY submission_id, item_index`)
  t.same(items.map((r) => `${r.submission_id}#${r.item_index}:${r.status}`), [
    'lab-b:sub-a#0:stored', 'lab-b:sub-a#1:stored', 'lab-b:sub-a#2:stored', 'lab-b:sub-a#3:duplicate', 'lab-b:sub-a#4:stored',
    'lab-b:sub-a#5:corrected', 'lab-b:sub-a#6:stored', 'lab-b:sub-a#7:superseded', 'lab-b:sub-a#8:cancelled', 'lab-b:sub-a#9:rejected',
    'lab-b:sub-b#0:stored', 'lab-b:sub-b#1:stored',
  ])
  t.same(items.filter((r) => r.has_error).map((r) => r.item_index), [9], 'the rejected item keeps its errors')
  t.same(await q(`SELECT count(*)::int AS n FROM submissions`), [{ n: 2 }])
  const patients = await q(`SELECT ins, family_norm, contact_sealed IS NOT NULL AS has_contact FROM patients ORDER BY patient_id`)
  t.equal(patients.length, 3, 'three patients: INS X, the default INS, the traits-only one')
  t.same(patients.map((p) => p.ins).sort(), [insX, nirWithKey('2840375123456'), null].sort())
  t.ok(patients.every((p) => p.has_contact), 'every new patient has the sealed contact of its first item')
  t.same(await q(`SELECT DISTINCT patient_id::text AS id FROM results WHERE accession IN ('B-8', 'B-9')`), [{ id: o('sub-b', 0).patientId }])

  // redelivery of the whole batch: every item replays its first outcome, nothing changes
  const before = await q(`SELECT (SELECT count(*) FROM results)::int AS r, (SELECT count(*) FROM result_versions)::int AS v, (SELECT count(*) FROM submission_items)::int AS s, (SELECT count(*) FROM patients)::int AS p`)
  const again = await applyToPostgres(env.pg, processed)
  t.equal(again.size, 12)
  for (const [key, x] of first) {
    const y = again.get(key)!
    t.same({ ...y, state: null }, { ...x, replay: true, state: null }, `${key} replays its first outcome`)
  }
  // a replay reports the result's current state: B-4's first item was stored, the result is now corrected
  t.equal(again.get(outcomeKey('lab-b:sub-a', 4))!.state, 'corrected')
  t.equal(again.get(outcomeKey('lab-b:sub-a', 0))!.state, 'final')
  t.same(await q(`SELECT (SELECT count(*) FROM results)::int AS r, (SELECT count(*) FROM result_versions)::int AS v, (SELECT count(*) FROM submission_items)::int AS s, (SELECT count(*) FROM patients)::int AS p`), before)
})
