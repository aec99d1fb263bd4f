// Proof of testing end to end (issue 5): results sent over HTTP → processor → RESULTS → certifier (signing in
// the piscina pool) → PostgreSQL → GET /v1/results/:id/certificate, checked against /v1/trust-list and the
// official schema; serology/inconclusive get none; a correction re-issues and revokes; a cancellation revokes.
import t from 'tap'
import { createHash } from 'node:crypto'
import { createTestEnv, startTestPlatform, postResults, getJson, eventually } from '../helpers/platform.ts'
import { makeItem } from '../helpers/results.ts'
import { TrustStore, verifyHc1 } from '../../workers/dcc/verify.ts'
import { validateDccPayload } from '../../workers/dcc/schema.ts'
import { isValidUvciChecksum } from '../../workers/dcc/uvci.ts'

const HOUR = 3600_000

function uciEntry(ci: string): string {
  return createHash('sha256').update(ci, 'utf8').digest().subarray(0, 16).toString('base64')
}

t.test('certificates for NAAT and antigen results, none for serology or inconclusive; corrections and cancellations revoke', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-dcc')
  const otherToken = await env.addLab('lab-other')
  const sampledAt = new Date(Date.now() - 20 * HOUR)

  const items = [
    makeItem({ accession: 'D-NAAT', loinc: '94500-6', result: '260373001', sampledAt: sampledAt.toISOString() }),
    makeItem({ accession: 'D-RAT', loinc: '94558-4', result: '260415000', device: '1232', patient: { family: 'Ørsted', given: ['Søren'], ins: undefined } }),
    makeItem({ accession: 'D-SERO', loinc: '94762-2', result: '260373001' }),
    makeItem({ accession: 'D-INC', loinc: '94500-6', result: '419984006' }),
  ]
  const sent = await postResults(platform.url, token, items)
  t.equal(sent.status, 202, JSON.stringify(sent.body))
  const statuses = await eventually('submission processed', async () => {
    const s = await getJson(`${platform.url}/v1/submissions/${sent.body.submissionId}`, token)
    return s.body.items?.every((i: { status: string }) => i.status === 'stored') ? s.body.items : undefined
  })
  const [naatId, ratId, seroId, incId] = statuses.map((i: { resultId: string }) => i.resultId)
  const certUrl = (id: string, q = '') => `${platform.url}/v1/results/${id}/certificate${q}`

  const cert = await eventually('NAAT certificate issued', async () => {
    const r = await getJson(certUrl(naatId), token)
    return r.status === 200 ? r.body : undefined
  })
  t.match(cert, { hc1: /^HC1:[0-9A-Z $%*+\-./:]+$/, ci: /^URN:UVCI:01:FR:[0-9A-Z]+#[0-9A-Z/:]$/, exp: String })
  t.ok(isValidUvciChecksum(cert.ci), 'the ci carries a valid Luhn mod N check character')

  // verify against the published trust list, as an outside verifier would
  const trustList = await getJson(`${platform.url}/v1/trust-list`, null)
  t.equal(trustList.status, 200)
  t.equal(trustList.body.certificates.length, 1)
  t.match(trustList.body.certificates[0], { kid: /^[A-Za-z0-9+/]{11}=$/, certificate: /^[A-Za-z0-9+/]+=*$/ })
  const trustStore = new TrustStore(trustList.body.certificates)
  const verdict = verifyHc1(cert.hc1, { trustStore })
  t.equal(verdict.valid, true, JSON.stringify(verdict.error))
  t.equal(verdict.header?.kid, trustList.body.certificates[0].kid)
  t.same(validateDccPayload(verdict.payload), { valid: true, errors: [] }, 'the payload validates against the official schema')
  t.match(verdict.payload, {
    ver: '1.3.0',
    nam: { fn: 'Dupont-Lefèvre', fnt: 'DUPONT<LEFEVRE', gn: 'Marie Anne', gnt: 'MARIE<ANNE' },
    dob: '1984-03-12',
    t: [{ tg: '840539006', tt: 'LP6464-4', tr: '260373001', co: 'FR', is: 'Ministère des Solidarités et de la Santé', tc: 'Test lab lab-dcc', ci: cert.ci }],
  })
  t.equal(verdict.claims?.iss, 'FR')
  t.equal(verdict.claims?.exp, Math.floor((sampledAt.getTime() + 72 * HOUR) / 1000), 'exp = sample time + 72 h')
  t.equal(cert.exp, new Date(verdict.claims!.exp! * 1000).toISOString())

  const rat = await eventually('antigen certificate issued', async () => {
    const r = await getJson(certUrl(ratId), token)
    return r.status === 200 ? r.body : undefined
  })
  const ratVerdict = verifyHc1(rat.hc1, { trustStore })
  t.equal(ratVerdict.valid, true)
  t.match(ratVerdict.payload, { nam: { fnt: 'OERSTED', gnt: 'SOEREN' }, t: [{ tt: 'LP217198-3', tr: '260415000', ma: '1232' }] })

  // the QR code, PNG and SVG
  const png = await fetch(certUrl(naatId, '?format=png'), { headers: { authorization: `Bearer ${token}` } })
  t.equal(png.status, 200)
  t.equal(png.headers.get('content-type'), 'image/png')
  t.same([...Buffer.from(await png.arrayBuffer()).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature')
  const svg = await fetch(certUrl(naatId, '?format=svg'), { headers: { authorization: `Bearer ${token}` } })
  t.equal(svg.status, 200)
  t.match(svg.headers.get('content-type'), /^image\/svg\+xml/)
  t.match(await svg.text(), /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>/)
  t.equal((await getJson(certUrl(naatId, '?format=gif'), token)).status, 400)

  // another lab, no token, not a uuid
  const other = await getJson(certUrl(naatId), otherToken)
  t.equal(other.status, 404, 'another lab gets 404')
  t.equal(other.body.code, 'RESULT_NOT_FOUND')
  t.equal((await getJson(certUrl(naatId), null)).status, 401)
  t.equal((await getJson(certUrl('not-a-uuid'), token)).status, 404)

  // serology and inconclusive: no certificate, and the reason recorded
  for (const [id, reason] of [[seroId, 'SEROLOGY'], [incId, 'INCONCLUSIVE']]) {
    const none = await eventually(`${reason} decision recorded`, async () => {
      const r = await getJson(certUrl(id), token)
      return r.body.code === 'NO_CERTIFICATE' ? r : undefined
    })
    t.equal(none.status, 404)
    t.equal(none.body.reason, reason)
  }
  t.equal((await env.pg.query('SELECT count(*)::int AS n FROM certificates')).rows[0].n, 2, 'two certificates issued, no more')

  // every certificate read is audited; a refused one is not a read of identified data
  const audit = await env.pg.query(`SELECT actor, subject, detail->>'format' AS format FROM audit_log WHERE action = 'certificate.read' ORDER BY audit_id`)
  t.ok(audit.rows.length >= 4)
  t.ok(audit.rows.every((r) => r.actor === 'lab:lab-dcc'))
  t.same(new Set(audit.rows.map((r) => r.format)), new Set(['json', 'png', 'svg']))

  // a correction re-issues and revokes the previous certificate
  const corrected = makeItem({ accession: 'D-NAAT', loinc: '94500-6', result: '260415000', status: 'corrected', sampledAt: sampledAt.toISOString(), resultedAt: new Date(Date.now() - HOUR).toISOString() })
  t.equal((await postResults(platform.url, token, [corrected])).status, 202)
  const reissued = await eventually('certificate re-issued', async () => {
    const r = await getJson(certUrl(naatId), token)
    return r.status === 200 && r.body.ci !== cert.ci ? r.body : undefined
  })
  const v2 = verifyHc1(reissued.hc1, { trustStore })
  t.equal(v2.valid, true)
  t.match(v2.payload, { t: [{ tr: '260415000', ci: reissued.ci }] })
  const revocations = await getJson(`${platform.url}/v1/revocation-list`, null)
  t.equal(revocations.status, 200)
  t.match(revocations.body, { country: 'FR', hashType: 'UCI' })
  t.same(revocations.body.entries.map((e: { hash: string }) => e.hash), [uciEntry(cert.ci)], 'the old ci hash is on the revocation list')
  t.match(revocations.body.entries[0], { kid: trustList.body.certificates[0].kid, reason: 'superseded' })
  const oldVerdict = await fetch(`${platform.url}/v1/dcc/verify`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: cert.hc1 })
  t.match(await oldVerdict.json(), { valid: false, failedStep: 'revocation', revoked: true, error: { code: 'DCC_REVOKED' } }, 'the revoked certificate no longer verifies here')

  // a cancellation revokes
  const cancelled = makeItem({ accession: 'D-RAT', loinc: '94558-4', result: '260415000', status: 'cancelled', device: '1232', patient: { family: 'Ørsted', given: ['Søren'], ins: undefined }, resultedAt: new Date(Date.now() - HOUR).toISOString() })
  t.equal((await postResults(platform.url, token, [cancelled])).status, 202)
  const gone = await eventually('certificate revoked by the cancellation', async () => {
    const r = await getJson(certUrl(ratId), token)
    return r.status === 410 ? r : undefined
  })
  t.equal(gone.body.code, 'CERTIFICATE_REVOKED')
  const after = await eventually('cancellation on the revocation list', async () => {
    const r = await getJson(`${platform.url}/v1/revocation-list`, null)
    return r.body.entries.length === 2 ? r.body.entries : undefined
  })
  t.same(new Set(after.map((e: { hash: string }) => e.hash)), new Set([uciEntry(cert.ci), uciEntry(rat.ci)]))
  t.same((await env.pg.query(`SELECT revoked_reason FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at`)).rows.map((r) => r.revoked_reason), ['superseded', 'cancelled'])

  const metrics = await (await fetch(`${platform.url}/metrics`)).text()
  t.match(metrics, /sidep_certificates_issued_total 3/)
  t.match(metrics, /sidep_certificates_revoked_total\{reason="superseded"\} 1/)
  t.match(metrics, /sidep_certificates_revoked_total\{reason="cancelled"\} 1/)
  t.match(metrics, /sidep_certificates_skipped_total\{reason="SEROLOGY"\} 1/)
  t.match(metrics, /sidep_batch_size_count\{stage="dcc_sign"\} [1-9]/)
})

t.test('a redelivered RESULTS message issues nothing twice', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-redo')
  const sent = await postResults(platform.url, token, [makeItem({ accession: 'R-1' })])
  const id = await eventually('stored', async () => {
    const s = await getJson(`${platform.url}/v1/submissions/${sent.body.submissionId}`, token)
    return s.body.items?.[0]?.status === 'stored' ? s.body.items[0].resultId : undefined
  })
  const first = await eventually('certificate', async () => {
    const r = await getJson(`${platform.url}/v1/results/${id}/certificate`, token)
    return r.status === 200 ? r.body : undefined
  })
  // replay every RESULTS message through the certifier's durable (a new consumer would be a new subscriber;
  // republishing the stored message under a new id is what a redelivery looks like to the certifier)
  const js = env.nc.jetstream()
  const jsm = await env.nc.jetstreamManager()
  const info = await jsm.streams.info(platform.topology.resultsStream)
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(platform.topology.resultsStream, { seq })
    await js.publish(m.subject, m.data)
  }
  await eventually('replayed messages consumed', async () => {
    const c = await jsm.consumers.info(platform.topology.resultsStream, platform.topology.certifierDurable)
    return c.num_pending === 0 && c.num_ack_pending === 0 && c.delivered.stream_seq >= info.state.last_seq * 2
  })
  const again = await getJson(`${platform.url}/v1/results/${id}/certificate`, token)
  t.equal(again.body.ci, first.ci, 'same certificate')
  t.equal((await env.pg.query('SELECT count(*)::int AS n FROM certificates')).rows[0].n, 1)
})
