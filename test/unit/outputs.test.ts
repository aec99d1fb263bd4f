import t from 'tap'
import { Packr } from 'msgpackr'
import { placeTokens, buildOutputs, batchIdOf, publicSubmissionId } from '../../pipeline/processor/outputs.ts'
import { topology } from '../../pipeline/subjects.ts'
import { decodeEnvelope, encodeEnvelope } from '../../workers/envelope.ts'

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
  const item = (index: number, department: string | null, region: string | null) => ({
    index,
    result: { residence: { department, region, country: department ? 'FR' : 'BE' } } as never,
    fact: { pseudonym: 'p', ageBand: '40-49' } as never,
  })
  const m1 = { seq: 7, labId: 'lab-1', submissionId: 'lab-1:s1', format: 'json', source: 'http' as const, receivedAt: 0, itemCount: 4, items: [item(0, '75', '11'), item(1, '75', '11'), item(2, null, null)], rejected: [{ index: 3, errors: [{ code: 'UNKNOWN_LOINC', field: 'loinc', message: 'm' }] }], pgRows: [] }
  const m2 = { seq: 8, labId: 'lab-2', submissionId: 'lab-2:s2', format: 'json', source: 'http' as const, receivedAt: 0, itemCount: 1, items: [item(0, '75', '11')], rejected: [], pgRows: [] }
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
  const results = new Packr({ useRecords: false }).unpack(messages[0].data)
  t.same(results.map((r: { submissionId: string; index: number }) => [r.submissionId, r.index]), [['s1', 0], ['s2', 0]])
  t.same(statuses.map((s) => s.message.labId), ['lab-1', 'lab-2'], 'one lab status per INGEST message')
  t.same(statuses[0].items.map((s) => [s.index, s.status, s.error?.code ?? null]), [[0, 'stored', null], [1, 'duplicate', null], [2, 'stored', null], [3, 'rejected', 'UNKNOWN_LOINC']])
})

t.test('an ingest envelope survives msgpack and a foreign message is refused', async (t) => {
  const e = { v: 1 as const, submissionId: 'l:s', format: 'json', receivedAt: 5, itemCount: 2, items: [{ index: 0, item: { a: 'é' } }], rejected: [{ index: 1, errors: [{ code: 'X', field: 'f', message: 'm' }] }] }
  t.same(decodeEnvelope(encodeEnvelope(e)), e)
  t.throws(() => decodeEnvelope(encodeEnvelope({ ...e, v: 2 } as never)), /not a sidep ingest envelope/)
})
