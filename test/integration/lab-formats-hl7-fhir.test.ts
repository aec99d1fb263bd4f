import t from 'tap'
import { readFileSync } from 'node:fs'
import { createTestEnv, startTestPlatform, postResults, eventually, chRows } from '../helpers/platform.ts'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url))
const HL7 = 'application/hl7-v2'

async function record(env: Awaited<ReturnType<typeof createTestEnv>>, labId: string, accession: string) {
  return eventually(`${accession} stored`, async () => {
    const { rows } = await env.pg.query('SELECT record, department, country, test_type FROM results WHERE lab_id = $1 AND accession = $2', [labId, accession])
    return rows[0]
  })
}

t.test('every HL7 v2.5.1 ORU^R01 fixture is ingested over HTTP, field by field', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-hl7')

  const example = await postResults(platform.url, token, fixture('hl7/Example-hl7-file.hl7'), HL7)
  t.equal(example.status, 202)
  t.same([example.body.accepted, example.body.rejected], [1, []])
  const ex = await record(env, 'lab-hl7', '1234d1d1-95fe-462c-8ac6-46728dba581c')
  t.match(ex.record, { loinc: '94558-4', result: '260415000', status: 'final', sampledAt: '2021-08-02T00:00:00-05:00', patient: { family: 'Bunny', given: ['Bugs', 'C'], birthDate: '1900-01-01', sex: 'M' } })
  t.same([ex.test_type, ex.country, ex.department], ['antigen', 'US', null], 'a US residence is kept as foreign, no department guessed')

  const ak = await postResults(platform.url, token, fixture('hl7/sample_AK_20240220-0001.hl7'), HL7)
  t.equal(ak.body.accepted, 1)
  const akRow = await record(env, 'lab-hl7', '3ad338c6-125d-4141-9ce1-6040481304ab')
  t.match(akRow.record, { loinc: '94500-6', result: '260373001', sampledAt: '2024-02-14T20:51:46+00:00', resultedAt: '2024-02-14T21:06:46+00:00', patient: { family: 'Diggory', given: ['Cedrick', 'Charles'], birthDate: '2000-12-18', sex: 'M' } })

  const single = await postResults(platform.url, token, fixture('hl7/single_message.hl7'), HL7)
  t.equal(single.body.accepted, 1)
  const sm = await record(env, 'lab-hl7', 'b518ef23-1d9a-40c1-ac4b-ed7b438dfc4b')
  t.match(sm.record, { loinc: '94558-4', result: '260415000', patient: { family: 'Buckridge', birthDate: '1958-08-10', sex: 'F' } })
  t.equal(sm.country, 'US', 'MSH-17 gives the country: postcode 67071 is not read as Bas-Rhin')

  // named "valid" but carries no patient name, birth date or sex: each missing field is reported in HL7 terms
  const mars = await postResults(platform.url, token, fixture('hl7/marsotcelr-valid.hl7'), HL7)
  t.equal(mars.status, 400)
  t.same(mars.body.rejected.map((r: { code: string; field: string }) => `${r.code} ${r.field}`).sort(), ['REQUIRED PID-5.1', 'REQUIRED PID-5.2', 'REQUIRED PID-7', 'REQUIRED PID-8'].sort())

  // the large batch: its malformed messages are rejected one by one, its good ones land
  const batch = await postResults(platform.url, token, fixture('hl7/test-0001-input-covid-19.hl7'), HL7)
  t.equal(batch.status, 202)
  t.equal(batch.body.accepted, 5)
  const byIndex = new Map<number, string[]>()
  for (const r of batch.body.rejected) byIndex.set(r.index, [...(byIndex.get(r.index) ?? []), `${r.code} ${r.field}`])
  t.equal(byIndex.size, 15, '15 of the 20 messages rejected, each on its own')
  const codes = [...byIndex.values()].map((v) => v[0].split(' ')[0])
  t.equal(codes.filter((c) => c === 'UNSUPPORTED_CODE').length, 8, 'eight with an unsupported PID-8 sex')
  t.equal(codes.filter((c) => c === 'SAMPLED_AFTER_RESULTED').length, 7, 'seven resulted before they were sampled')
  t.ok([...byIndex.values()].flat().every((e) => /^[A-Z_]+ [A-Z]{3}/.test(e)), 'every error names its HL7 segment and field')
  await eventually('the five good messages landed', async () => {
    const { rows } = await env.pg.query(`SELECT accession FROM results WHERE accession IN ('788559', '505765', '381685', '269631', '377608')`)
    return rows.length === 5
  })

  // the same batch, asking for HL7 acknowledgements: one ACK per message, AE with ERR for the rejected ones
  const acked = await fetch(`${platform.url}/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': HL7, accept: HL7 }, body: fixture('hl7/test-0001-input-covid-19.hl7') })
  t.equal(acked.headers.get('content-type')?.split(';')[0], HL7)
  const ack = await acked.text()
  const msa = ack.split('\r').filter((s) => s.startsWith('MSA')).map((s) => s.split('|')[1])
  t.equal(msa.length, 20)
  t.same([msa.filter((c) => c === 'AA').length, msa.filter((c) => c === 'AE').length], [5, 15])
  t.ok(ack.split('\r').some((s) => /^ERR\|\|PID\^1\^8\^1\|103\^/.test(s)), 'ERR-2 locates PID-8, ERR-3 is table 0357 code 103')
})

t.test('the FHIR R4 bundle is ingested, answers an OperationOutcome, and matches its HL7 twin', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const hl7Lab = await env.addLab('lab-hl7')
  const fhirLab = await env.addLab('lab-fhir')

  const res = await fetch(`${platform.url}/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${fhirLab}`, 'content-type': 'application/fhir+json' }, body: fixture('fhir/sample_AK_20240220-0001.fhir.json') })
  t.equal(res.status, 202)
  t.equal(res.headers.get('content-type')?.split(';')[0], 'application/fhir+json')
  const outcome = await res.json()
  t.equal(outcome.resourceType, 'OperationOutcome')
  t.match(outcome.issue[0], { severity: 'information', details: { text: /^submission [0-9a-f-]{36}: 1 accepted, 0 rejected$/ } })
  t.ok(res.headers.get('location')?.startsWith('/v1/submissions/'))

  await postResults(platform.url, hl7Lab, fixture('hl7/sample_AK_20240220-0001.hl7'), 'application/hl7-v2')
  const fromFhir = await record(env, 'lab-fhir', '3ad338c6-125d-4141-9ce1-6040481304ab')
  const fromHl7 = await record(env, 'lab-hl7', '3ad338c6-125d-4141-9ce1-6040481304ab')
  const { prescriber: fhirPrescriber, ...fhirRest } = fromFhir.record
  const { prescriber: hl7Prescriber, ...hl7Rest } = fromHl7.record
  t.same(fhirRest, hl7Rest, 'the HL7 and FHIR versions of the same report give the same canonical result')
  // the one known difference lies in the fixtures themselves: the HL7 ordering provider has no identifier
  t.equal(hl7Prescriber, undefined)
  t.match(fhirPrescriber, { id: '1245319599', idType: 'NPI' })

  const db = env.config.clickhouseDatabase
  const facts = await eventually('both facts', async () => {
    const rows = await chRows<{ lab_id: string; test_type: string; result: string; country: string; age_band: string }>(env.ch, `SELECT lab_id, test_type, result, country, age_band FROM ${db}.result_facts FINAL ORDER BY lab_id`)
    return rows.length === 2 ? rows : undefined
  })
  t.same(facts.map((f) => `${f.test_type} ${f.result} ${f.country} ${f.age_band}`), ['naat 260373001 US 20-29', 'naat 260373001 US 20-29'])

  const broken = await fetch(`${platform.url}/v1/results`, { method: 'POST', headers: { authorization: `Bearer ${fhirLab}`, 'content-type': 'application/fhir+json' }, body: '{"resourceType": "Patient"}' })
  t.equal(broken.status, 400)
  const brokenOutcome = await broken.json()
  t.equal(brokenOutcome.resourceType, 'OperationOutcome')
  t.ok(brokenOutcome.issue.some((i: { severity: string; code: string }) => i.severity === 'error' || i.severity === 'fatal'), 'the refusal is an error issue')
})

t.test('the OpenAPI description is generated from the schemas the server uses', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const spec = await (await fetch(`${platform.url}/docs/json`)).json()
  const post = spec.paths['/v1/results'].post
  t.same(Object.keys(post.requestBody.content).sort(), ['application/fhir+json', 'application/hl7-v2', 'application/json', 'text/csv', 'x-application/hl7-v2+er7'])
  t.match(JSON.stringify(spec), /sidep laboratory result \(JSON\)/, 'the result contract schema file is in it')
  t.ok(spec.paths['/v1/submissions/{id}'], 'the submission status route is described')
  t.match(JSON.stringify(post.responses['202']), /submissionId/)
  const page = await fetch(`${platform.url}/docs/`)
  t.equal(page.status, 200)
  t.match(await page.text(), /swagger/i)
  const template = await fetch(`${platform.url}/v1/templates/results.csv`, { headers: { authorization: `Bearer ${await env.addLab('lab-doc')}` } })
  t.match(await template.text(), /^accession,loinc,result/)
})
