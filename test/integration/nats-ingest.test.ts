import t from 'tap'
import { headers as natsHeaders, type JetStreamManager } from 'nats'
import { Packr } from 'msgpackr'
import { createTestEnv, startTestPlatform, eventually } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'
import { loadOrCreateKeys, workerKeys } from '../../pipeline/keys/key-store.ts'
import { sealEnvelope, type EnvelopeKeys } from '../../workers/envelope.ts'
import { validateItem } from '../../workers/validate/validate.ts'
import type { CanonicalResult } from '../../workers/model/canonical.ts'

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

t.test('a forged or altered envelope fails authentication and is dead-lettered; a genuine one is trusted', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  await env.addLab('lab-f')
  await env.addLab('lab-g')
  const topo = platform.topology
  const js = env.nc.jetstream()
  const jsm = await env.nc.jetstreamManager()
  const packr = new Packr({ useRecords: false })
  const wk = workerKeys(await loadOrCreateKeys(env.config.dataDir))
  const platformKeys = { envelopeKeyId: wk.envelopeKeyId, envelopeKeys: wk.envelopeKeys } as EnvelopeKeys
  const envelopeOf = (accession: string, keys: EnvelopeKeys, labId = 'lab-f') => {
    const v = validateItem(makeItem({ accession }), { labId, now: Date.now() })
    if (!v.ok) throw new Error('fixture item is invalid')
    const result: CanonicalResult = v.result
    return sealEnvelope({ v: 2, labId, submissionId: `${labId}:sub-${accession}`, format: 'json', channel: 'http', receivedAt: Date.now(), itemCount: 1, index: [0], results: packr.pack(result), rejected: [] }, keys)
  }
  const publish = (labId: string, data: Uint8Array, auth?: string) => {
    const h = natsHeaders()
    h.set('Sidep-Envelope', '2')
    if (auth) h.set('Sidep-Envelope-Auth', auth)
    return js.publish(topo.ingest(labId), data, { headers: h })
  }

  // 1. altered after the gateway tagged it: one byte of the result changed
  const altered = envelopeOf('F-altered', platformKeys)
  const bytes = Uint8Array.prototype.slice.call(altered.data) as Uint8Array
  bytes[bytes.indexOf(0x46)] = 0x47 // 'F' of the accession → 'G'
  await publish('lab-f', bytes, altered.auth)
  // 2. forged: made without the platform key, with a tag under a key of the forger's choosing, or none
  const forger = { envelopeKeyId: platformKeys.envelopeKeyId, envelopeKeys: { [platformKeys.envelopeKeyId]: Buffer.alloc(32, 1) } }
  const forged = envelopeOf('F-forged', forger)
  await publish('lab-f', forged.data, forged.auth)
  await publish('lab-f', forged.data)
  // 3. genuine, but replayed on another lab's subject
  const other = envelopeOf('F-replayed', platformKeys)
  await publish('lab-g', other.data, other.auth)
  // 4. genuine
  const good = envelopeOf('F-good', platformKeys)
  await publish('lab-f', good.data, good.auth)

  await eventually('the genuine envelope lands', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession = 'F-good'`)).rowCount === 1)
  const letters = await eventually('four dead letters', async () => {
    const info = await jsm.streams.info(topo.dlqStream)
    if (info.state.messages < 4) return undefined
    const out: Array<{ code: string; labId: string; data: string }> = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(topo.dlqStream, { seq })
      if (m.subject === topo.dlq('parse')) out.push({ code: m.json<{ error: { code: string } }>().error.code, labId: m.json<{ labId: string }>().labId, data: m.json<{ data: string }>().data })
    }
    return out.length === 4 ? out : undefined
  })
  t.same(letters.map((l) => [l.code, l.labId]), [['ENVELOPE_UNAUTHENTICATED', 'lab-f'], ['ENVELOPE_UNAUTHENTICATED', 'lab-f'], ['ENVELOPE_UNAUTHENTICATED', 'lab-f'], ['ENVELOPE_UNAUTHENTICATED', 'lab-g']])
  t.same(Buffer.from(letters[0].data, 'base64'), Buffer.from(bytes), 'the dead letter keeps the bytes as received')
  const landed = (await env.pg.query(`SELECT accession FROM results ORDER BY accession`)).rows.map((r) => r.accession)
  t.same(landed, ['F-good'], 'nothing of the forged, altered or replayed envelopes reached PostgreSQL')
  const pending = await eventually('INGEST fully acknowledged', async () => {
    const info = await jsm.consumers.info(topo.ingestStream, topo.processorDurable)
    return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined
  })
  t.equal(pending.num_pending, 0)
})
