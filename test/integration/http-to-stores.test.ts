import t from 'tap'
import { createTestEnv, startTestPlatform, postResults, getJson, eventually, chRows } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'

t.test('a JSON submission over HTTP lands in PostgreSQL and ClickHouse, and the lab reads it back', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-a')
  const otherToken = await env.addLab('lab-b')
  const statusSub = env.nc.subscribe(platform.topology.labStatus('lab-a'), { max: 1 })

  const items = [
    makeItem({ accession: 'A-1' }),
    makeItem({ accession: 'A-2', loinc: '94558-4', result: '260415000', patient: { ins: undefined, family: 'Le Hénaff', given: ['Yann'], birthDate: '2001-07-30', sex: 'M', address: { postcode: '20090', country: 'FR' }, phone: '+33698765432' } }),
    makeItem({ accession: 'A-3', patient: { ins: nirWithKey('1750620004012'), address: { postcode: '97411', country: 'FR' } } }),
  ]
  const res = await postResults(platform.url, token, items)
  t.equal(res.status, 202, 'accepted')
  t.equal(res.body.accepted, 3)
  t.same(res.body.rejected, [])
  const submissionId = res.body.submissionId as string
  t.match(submissionId, /^[0-9a-f-]{36}$/)

  const view = await eventually('all items processed', async () => {
    const s = await getJson(`${platform.url}/v1/submissions/${submissionId}`, token)
    return s.body.items?.every((i: { status: string }) => i.status !== 'pending') ? s.body : undefined
  })
  t.same(view.items.map((i: { status: string }) => i.status), ['stored', 'stored', 'stored'])
  t.ok(view.items.every((i: { resultId: string }) => /^[0-9a-f-]{36}$/.test(i.resultId)), 'each item has a result id')

  const pgRows = (await env.pg.query('SELECT accession, state, version, department, region, country, test_type FROM results ORDER BY accession')).rows
  t.same(pgRows, [
    { accession: 'A-1', state: 'final', version: 1, department: '75', region: '11', country: 'FR', test_type: 'naat' },
    { accession: 'A-2', state: 'final', version: 1, department: '2A', region: '94', country: 'FR', test_type: 'antigen' },
    { accession: 'A-3', state: 'final', version: 1, department: '974', region: '04', country: 'FR', test_type: 'naat' },
  ])
  const contact = (await env.pg.query(`SELECT count(*)::int AS n FROM results WHERE contact_sealed::text LIKE '%612345678%' OR record::text LIKE '%612345678%'`)).rows[0].n
  t.equal(contact, 0, 'phone numbers are sealed, never stored in clear')

  const facts = await eventually('facts in ClickHouse', async () => {
    const rows = await chRows(env.ch, `SELECT lab_id, test_type, result, age_band, sex, department, region, state, version FROM ${env.config.clickhouseDatabase}.result_facts FINAL ORDER BY department`)
    return rows.length === 3 ? rows : undefined
  })
  t.same(facts, [
    { lab_id: 'lab-a', test_type: 'antigen', result: '260415000', age_band: '20-29', sex: 'M', department: '2A', region: '94', state: 'final', version: 1 },
    { lab_id: 'lab-a', test_type: 'naat', result: '260373001', age_band: '40-49', sex: 'F', department: '75', region: '11', state: 'final', version: 1 },
    { lab_id: 'lab-a', test_type: 'naat', result: '260373001', age_band: '40-49', sex: 'F', department: '974', region: '04', state: 'final', version: 1 },
  ])

  const mine = await getJson(`${platform.url}/v1/results?accession=A-2`, token)
  t.equal(mine.status, 200)
  t.equal(mine.body.results.length, 1)
  t.match(mine.body.results[0], { accession: 'A-2', loinc: '94558-4', state: 'final', version: 1, patient: { family: 'Le Hénaff', phone: '+33698765432' } })
  const audit = (await env.pg.query(`SELECT actor, action FROM audit_log`)).rows
  t.same(audit, [{ actor: 'lab:lab-a', action: 'results.read' }], 'the read of identified data is audited')

  const theirs = await getJson(`${platform.url}/v1/results?accession=A-2`, otherToken)
  t.same(theirs.body.results, [], "another lab never sees this lab's results")
  const theirView = await getJson(`${platform.url}/v1/submissions/${submissionId}`, otherToken)
  t.equal(theirView.status, 404, "another lab cannot read this lab's submission")

  for await (const m of statusSub) {
    const s = m.json<{ submissionId: string; items: Array<{ status: string }> }>()
    t.equal(s.submissionId, submissionId, 'outcomes are published on the lab status subject')
    t.same(s.items.map((i) => i.status), ['stored', 'stored', 'stored'])
  }

  const patients = (await env.pg.query('SELECT count(*)::int AS n FROM patients')).rows[0].n
  t.equal(patients, 3, 'A-3 shares A-1 names and birth date but has another INS: a homonym, another patient')
  // same INS, name spelled otherwise: the INS decides
  const again = await postResults(platform.url, token, [makeItem({ accession: 'A-4', patient: { family: 'DUPONT', given: ['Marie'] } })])
  t.equal(again.status, 202)
  await eventually('A-4 stored', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession = 'A-4'`)).rowCount === 1)
  const same = (await env.pg.query(`SELECT count(DISTINCT patient_id)::int AS n FROM results WHERE accession IN ('A-1', 'A-4')`)).rows[0].n
  t.equal(same, 1, 'the same INS across results is one patient')
})

t.test('the same person without INS, spelled differently, is linked to one patient', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-a')
  const base = { ins: undefined, given: ['Hélène'], birthDate: '1950-01-02', sex: 'F' }
  const res = await postResults(platform.url, token, [
    makeItem({ accession: 'P-1', patient: { ...base, family: "N'Diaye-Lefèvre" } }),
    makeItem({ accession: 'P-2', patient: { ...base, family: 'NDIAYE LEFEVRE', given: ['helene'] } }),
  ])
  t.equal(res.status, 202)
  t.equal(res.body.accepted, 2)
  await eventually('both stored', async () => (await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n === 2)
  // The apostrophe is a separator (N DIAYE), NDIAYE has none: these two must differ; accents and case must not.
  const ids = (await env.pg.query('SELECT DISTINCT patient_id FROM results')).rows
  t.equal(ids.length, 2, "N'Diaye and NDIAYE normalise differently (the apostrophe separates words)")
  await postResults(platform.url, token, [makeItem({ accession: 'P-3', patient: { ...base, family: 'n’diaye  lefèvre', given: ['HELENE'] } })])
  await eventually('third stored', async () => (await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n === 3)
  const linked = (await env.pg.query(`SELECT count(DISTINCT patient_id)::int AS n FROM results WHERE accession IN ('P-1', 'P-3')`)).rows[0].n
  t.equal(linked, 1, 'accents, case, punctuation and extra spaces do not split a person')
})
