import t from 'tap'
import { headers as natsHeaders, type JetStreamManager } from 'nats'
import { Packr } from 'msgpackr'
import { createTestEnv, startTestPlatform, eventually } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'

async function lastDeadLetter(jsm: JetStreamManager, stream: string, subject: string) {
  try {
    return await jsm.streams.getMessage(stream, { last_by_subj: subject })
  } catch {
    return undefined
  }
}

t.test('a lab publishing JSON on NATS is processed like HTTP, and told the outcome', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  await env.addLab('lab-n')
  const statuses = env.nc.subscribe(platform.topology.labStatus('lab-n'), { max: 1 })
  const js = env.nc.jetstream()
  await js.publish(platform.topology.ingest('lab-n'), JSON.stringify(makeItem({ accession: 'N-1' })))
  for await (const m of statuses) {
    const s = m.json<{ submissionId: string; items: Array<{ index: number; status: string; resultId: string }> }>()
    t.match(s.submissionId, /^n[0-9a-z]+-\d+$/, 'the submission id is derived from the stream sequence')
    t.equal(s.items.length, 1)
    t.equal(s.items[0].status, 'stored')
    const row = (await env.pg.query('SELECT result_id, accession FROM results')).rows
    t.same(row, [{ result_id: s.items[0].resultId, accession: 'N-1' }], 'the result is in PostgreSQL with the id the lab was told')
  }
})

t.test('poison messages go to the dead-letter subjects and the stream moves on', async (t) => {
  const env = await createTestEnv(t, { maxAttempts: 2 })
  const platform = await startTestPlatform(t, env)
  await env.addLab('lab-p')
  const topo = platform.topology
  const js = env.nc.jetstream()
  const jsm = await env.nc.jetstreamManager()
  const subject = topo.ingest('lab-p')

  // 1. not JSON at all
  await js.publish(subject, 'this is { not json')
  // 2. a forged envelope whose items make the worker throw: retried maxAttempts times, then dead-lettered
  const h = natsHeaders()
  h.set('Sidep-Envelope', '1')
  await js.publish(subject, new Packr({ useRecords: false }).pack({ v: 1, submissionId: 'forged', format: 'json', receivedAt: Date.now(), itemCount: 1, items: [null], rejected: [] }), { headers: h })
  // 3. an invalid item (bad NIR key)
  const badNir = nirWithKey('2840375123456').slice(0, 13) + '00'
  await js.publish(subject, JSON.stringify(makeItem({ accession: 'P-bad', patient: { ins: badNir } })))
  // 4. a good one after all of them
  await js.publish(subject, JSON.stringify(makeItem({ accession: 'P-good' })))

  await eventually('the good message lands', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession = 'P-good'`)).rowCount === 1)

  const parse = await eventually('parse dead letter', () => lastDeadLetter(jsm, topo.dlqStream, topo.dlq('parse')))
  const parsed = parse.json<{ error: { code: string }; data: string; labId: string }>()
  t.equal(parsed.error.code, 'MALFORMED_JSON')
  t.equal(parsed.labId, 'lab-p')
  t.equal(Buffer.from(parsed.data, 'base64').toString(), 'this is { not json', 'the original bytes are kept for replay')

  const validate = await eventually('validate dead letter', () => lastDeadLetter(jsm, topo.dlqStream, topo.dlq('validate')))
  const v = validate.json<{ errors: Array<{ code: string; field: string }> }>()
  t.same(v.errors.map((e) => [e.code, e.field]), [['INVALID_NIR_KEY', 'patient.ins']])
  const rejected = (await env.pg.query(`SELECT status, error FROM submission_items WHERE status = 'rejected' ORDER BY submission_id`)).rows
  t.same(rejected.map((r) => r.error[0].code).sort(), ['INVALID_NIR_KEY', 'MALFORMED_JSON'], 'each rejected item has its itemised error in the submission status')

  const crashed = await eventually('processor dead letter after bounded retries', () => lastDeadLetter(jsm, topo.dlqStream, topo.dlq('processor')), 60_000)
  t.equal(crashed.header.get('Sidep-Error-Code'), 'WORKER_FAILED')
  t.equal(crashed.header.get('Sidep-Attempts'), '2', 'dead-lettered after maxAttempts deliveries')

  const pending = await eventually('INGEST fully acknowledged', async () => {
    const info = await jsm.consumers.info(topo.ingestStream, topo.processorDurable)
    return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined
  }, 30_000)
  t.equal(pending.num_pending, 0, 'nothing is left blocking the stream')
})
