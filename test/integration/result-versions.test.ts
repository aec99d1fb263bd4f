import t from 'tap'
import { createTestEnv, startTestPlatform, postResults, getJson, eventually, chRows } from '../helpers/platform.ts'
import { makeItem } from '../helpers/results.ts'

const HOUR = 3600_000

t.test('a resend is one result, a correction replaces it, a cancellation removes it from counts', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-v')
  const db = env.config.clickhouseDatabase
  const resultedAt = new Date(Date.now() - 3 * HOUR).toISOString()
  const first = makeItem({ accession: 'V-1', resultedAt })

  const statusOf = async (submissionId: string) =>
    eventually(`submission ${submissionId} processed`, async () => {
      const s = await getJson(`${platform.url}/v1/submissions/${submissionId}`, token)
      return s.body.items?.every((i: { status: string }) => i.status !== 'pending') ? s.body.items.map((i: { status: string }) => i.status) : undefined
    })
  const countedInClickHouse = async () =>
    (await chRows<{ n: string }>(env.ch, `SELECT count() AS n FROM ${db}.result_facts FINAL WHERE state != 'cancelled'`))[0].n

  const a = await postResults(platform.url, token, [first])
  t.same(await statusOf(a.body.submissionId), ['stored'])
  const b = await postResults(platform.url, token, [first])
  t.same(await statusOf(b.body.submissionId), ['duplicate'], 'the same result sent again is a duplicate')
  // also twice inside one submission
  const c = await postResults(platform.url, token, [first, first])
  t.same(await statusOf(c.body.submissionId), ['duplicate', 'duplicate'])
  t.equal((await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n, 1, 'one row in PostgreSQL')
  await eventually('one fact', async () => (await countedInClickHouse()) === '1')

  const corrected = makeItem({ accession: 'V-1', resultedAt: new Date(Date.now() - 2 * HOUR).toISOString(), result: '260415000', status: 'corrected' })
  const d = await postResults(platform.url, token, [corrected])
  t.same(await statusOf(d.body.submissionId), ['corrected'])
  const row = (await env.pg.query('SELECT version, state, result FROM results')).rows
  t.same(row, [{ version: 2, state: 'corrected', result: '260415000' }], 'the correction replaced the result')
  t.equal((await env.pg.query('SELECT count(*)::int AS n FROM result_versions')).rows[0].n, 2, 'both versions are kept in the history')
  const fact = await eventually('corrected fact', async () => {
    const rows = await chRows<{ version: number; result: string; state: string }>(env.ch, `SELECT version, result, state FROM ${db}.result_facts FINAL`)
    return rows.length === 1 && rows[0].version === 2 ? rows : undefined
  })
  t.same(fact, [{ version: 2, result: '260415000', state: 'corrected' }], 'ClickHouse holds only the corrected version')

  // an older version arriving late changes nothing
  const stale = makeItem({ accession: 'V-1', resultedAt: new Date(Date.now() - 5 * HOUR).toISOString(), result: '419984006' })
  const e = await postResults(platform.url, token, [stale])
  t.same(await statusOf(e.body.submissionId), ['superseded'])
  t.same((await env.pg.query('SELECT version, result FROM results')).rows, [{ version: 2, result: '260415000' }])

  const cancelled = makeItem({ accession: 'V-1', resultedAt: new Date(Date.now() - 1 * HOUR).toISOString(), result: '260415000', status: 'cancelled' })
  const f = await postResults(platform.url, token, [cancelled])
  t.same(await statusOf(f.body.submissionId), ['cancelled'])
  const readBack = await getJson(`${platform.url}/v1/results?accession=V-1`, token)
  t.match(readBack.body.results, [{ state: 'cancelled', version: 3 }])
  await eventually('cancelled fact not counted', async () => (await countedInClickHouse()) === '0')
  const all = await chRows<{ n: string }>(env.ch, `SELECT count() AS n FROM ${db}.result_facts FINAL`)
  t.equal(all[0].n, '1', 'the cancelled result is one row, marked cancelled')
})
