import t from 'tap'
import { Packr } from 'msgpackr'
import { MsgpackWriter } from '../../pipeline/processor/msgpack-writer.ts'
import { buildOutputs, batchIdOf, publicSubmissionId } from '../../pipeline/processor/outputs.ts'
import { placeTokens } from '../../workers/fact.ts'
import { topology } from '../../pipeline/subjects.ts'
import { decodeEnvelope, encodeEnvelope, sealEnvelope, openEnvelope } from '../../workers/envelope.ts'
import { sodiumReady } from '../../workers/sodium.ts'

t.test('residence gives the subject tokens: region.department, foreign.<country>, or unknown.none', async (t) => {
  t.same(placeTokens('2A', '94', 'FR'), ['94', '2A'])
  t.same(placeTokens(null, null, 'US'), ['foreign', 'US'])
  t.same(placeTokens(null, null, 'ZZ'), ['foreign', 'ZZ'])
  t.same(placeTokens(null, null, 'FR'), ['unknown', 'none'])
  t.same(placeTokens(null, null, ''), ['unknown', 'none'])
})

t.test('subjects follow DESIGN.md and a lab id is read back from its ingest subject only', async (t) => {
  const topo = topology({ subjectRoot: 'sidep', streamPrefix: '' })
  t.equal(topo.ingest('lab-1'), 'sidep.ingest.lab-1')
  t.equal(topo.results('11', '75'), 'sidep.results.11.75')
  t.equal(topo.feed('94', '2B'), 'sidep.feed.pseudo.94.2B')
  t.equal(topo.labStatus('lab-1'), 'sidep.lab.lab-1.status')
  t.equal(topo.labOfIngestSubject('sidep.ingest.lab-1'), 'lab-1')
  t.equal(topo.labOfIngestSubject('sidep.ingest.lab.1'), null)
  t.equal(topo.labOfIngestSubject('other.ingest.lab-1'), null)
  t.equal(publicSubmissionId('lab-1:abc'), 'abc')
})

t.test('only effective outcomes are published, grouped per batch and department with stable message ids', async (t) => {
  const topo = topology({ subjectRoot: 'sidep', streamPrefix: '' })
  const packr = new Packr({ useRecords: false })
  // what the worker hands over: columns, the canonical result pre-encoded, the fact serialised
  const accepted = (items: Array<[number, string]>) => {
    const bins = items.map(([index, place]) => packr.pack({ accession: `A-${index}`, place, note: 'é' }))
    const ends: number[] = []
    let n = 0
    for (const b of bins) ends.push((n += b.length))
    return { index: items.map((x) => x[0]), place: items.map((x) => x[1]), fact: items.map(() => '"pseudonym":"p","ageBand":"40-49"}'), results: Buffer.concat(bins), resultEnds: ends }
  }
  const m1 = { seq: 7, labId: 'lab-1', submissionId: 'lab-1:s1', format: 'json', source: 'http' as const, receivedAt: 0, itemCount: 4, accepted: accepted([[0, '11.75'], [1, '11.75'], [2, 'foreign.BE']]), rejected: [{ index: 3, errors: [{ code: 'UNKNOWN_LOINC', field: 'loinc', message: 'm' }] }], pgRows: [] }
  const m2 = { seq: 8, labId: 'lab-2', submissionId: 'lab-2:s2', format: 'json', source: 'http' as const, receivedAt: 0, itemCount: 1, accepted: accepted([[0, '11.75']]), rejected: [], pgRows: [] }
  const o = (sub: string, index: number, status: string, version: number | null) => [`${sub}#${index}`, { submissionId: sub, index, status, resultId: `r${index}`, version, state: 'final', patientId: '1', replay: false }] as const
  const outcomes = new Map([o('lab-1:s1', 0, 'stored', 1), o('lab-1:s1', 1, 'duplicate', 1), o('lab-1:s1', 2, 'stored', 1), o('lab-2:s2', 0, 'corrected', 2)] as never)
  const batch = [m1, m2] as never
  const id = batchIdOf(batch)
  t.equal(id, batchIdOf([m1, m2] as never), 'the same composition has the same id')
  t.not(id, batchIdOf([m1] as never), 'another composition has another id')
  const { messages, statuses } = buildOutputs(topo, batch, outcomes as never, id)
  t.same(messages.map((x) => [x.subject, x.msgID]), [
    ['sidep.results.11.75', `r:${id}:11.75`],
    ['sidep.results.foreign.BE', `r:${id}:foreign.BE`],
    ['sidep.feed.pseudo.11.75', `f:${id}:11.75`],
    ['sidep.feed.pseudo.foreign.BE', `f:${id}:foreign.BE`],
  ])
  const feed = JSON.parse(Buffer.from(messages[2].data).toString())
  t.same(feed.map((f: { factId: string; version: number }) => [f.factId, f.version]), [['r0', 1], ['r0', 2]], 'one message for both INGEST messages; the duplicate is not published again')
  t.same(feed[0], { schema: 'sidep.feed.pseudo/v1', factId: 'r0', version: 1, state: 'final', pseudonym: 'p', ageBand: '40-49' })
  const results = packr.unpack(messages[0].data)
  t.same(results, [
    { resultId: 'r0', version: 1, state: 'final', patientId: '1', submissionId: 's1', index: 0, result: { accession: 'A-0', place: '11.75', note: 'é' } },
    { resultId: 'r0', version: 2, state: 'final', patientId: '1', submissionId: 's2', index: 0, result: { accession: 'A-0', place: '11.75', note: 'é' } },
  ], 'RESULTS maps are assembled around the pre-encoded results')
  t.same(statuses.map((s) => s.message.labId), ['lab-1', 'lab-2'], 'one lab status per INGEST message')
  t.same(statuses[0].items.map((s) => [s.index, s.status, s.error?.code ?? null]), [[0, 'stored', null], [1, 'duplicate', null], [2, 'stored', null], [3, 'rejected', 'UNKNOWN_LOINC']])
})

t.test('an ingest envelope survives msgpack and a foreign message is refused', async (t) => {
  const e = { v: 1 as const, submissionId: 'l:s', format: 'json', receivedAt: 5, itemCount: 2, items: [{ index: 0, item: { a: 'é' } }], rejected: [{ index: 1, errors: [{ code: 'X', field: 'f', message: 'm' }] }] }
  t.same(decodeEnvelope(encodeEnvelope(e)), e)
  t.throws(() => decodeEnvelope(encodeEnvelope({ ...e, v: 2 } as never)), /not a sidep ingest envelope/)
})

t.test('the hand-written msgpack forms decode as msgpackr encodes them', async (t) => {
  const packr = new Packr({ useRecords: false })
  const strings = ['', 'a', 'x'.repeat(31), 'y'.repeat(32), 'é'.repeat(20), 'z'.repeat(255), 'w'.repeat(256), 'v'.repeat(70_000)]
  const ints = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1]
  const w = new MsgpackWriter(16)
  w.arrayHeader(strings.length + ints.length + 2)
  for (const s of strings) w.str(s)
  for (const i of ints) w.uint(i)
  w.nil()
  w.mapHeader(1).str('k').raw(packr.pack({ nested: [1, 'two'] }))
  const bytes = w.bytes()
  t.same(packr.unpack(bytes), [...strings, ...ints, null, { k: { nested: [1, 'two'] } }])
  const big = new MsgpackWriter(8)
  big.arrayHeader(70_000)
  for (let i = 0; i < 70_000; i++) big.uint(i)
  const decoded = packr.unpack(big.bytes()) as number[]
  t.equal(decoded.length, 70_000)
  t.equal(decoded[69_999], 69_999)
  const m = new MsgpackWriter().mapHeader(20)
  for (let i = 0; i < 20; i++) m.str(`k${i}`).uint(i)
  t.equal(Object.keys(packr.unpack(m.bytes())).length, 20)
})

t.test('a trusted envelope opens only with its platform key and unaltered', async (t) => {
  await sodiumReady()
  const keys = { envelopeKeyId: 'ek-1', envelopeKeys: { 'ek-1': Buffer.alloc(32, 7), 'ek-0': Buffer.alloc(32, 3) } }
  const results = new Packr({ useRecords: false }).pack({ accession: 'A' })
  const e = { v: 2 as const, labId: 'lab-1', submissionId: 'lab-1:s', format: 'json', receivedAt: 5, itemCount: 1, index: [0], results, rejected: [] }
  const chunk = sealEnvelope(e, keys)
  t.match(chunk.auth, /^ek-1:[A-Za-z0-9+/]+=*$/)
  const opened = openEnvelope(chunk.data, chunk.auth, keys.envelopeKeys)
  t.same({ ...opened, results: Buffer.from(opened.results) }, { ...e, results: Buffer.from(results) })
  const code = (f: () => unknown) => { try { f(); return 'opened' } catch (err) { return (err as { code?: string }).code } }
  const tampered = Uint8Array.prototype.slice.call(chunk.data)
  tampered[tampered.length - 3] ^= 1
  t.equal(code(() => openEnvelope(tampered, chunk.auth, keys.envelopeKeys)), 'ENVELOPE_UNAUTHENTICATED', 'one bit changed')
  t.equal(code(() => openEnvelope(chunk.data, undefined, keys.envelopeKeys)), 'ENVELOPE_UNAUTHENTICATED', 'no tag')
  t.equal(code(() => openEnvelope(chunk.data, (chunk.auth as string).replace('ek-1', 'ek-0'), keys.envelopeKeys)), 'ENVELOPE_UNAUTHENTICATED', 'the tag under another key')
  t.equal(code(() => openEnvelope(chunk.data, (chunk.auth as string).replace('ek-1', 'toString'), keys.envelopeKeys)), 'ENVELOPE_UNAUTHENTICATED', 'an unknown key id')
  t.equal(code(() => openEnvelope(chunk.data, chunk.auth, { 'ek-1': Buffer.alloc(32, 8) })), 'ENVELOPE_UNAUTHENTICATED', 'another platform')
})
