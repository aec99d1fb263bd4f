import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createTestEnv, eventually, chRows } from '../helpers/platform.ts'
import { makeItem } from '../helpers/results.ts'

const MESSAGES = 40
const PER_MESSAGE = 250
const TOTAL = MESSAGES * PER_MESSAGE

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/sidep.js', 'start'], {
    env: { PATH: process.env.PATH, ...env, SIDEP_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr!.resume()
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('sidep is running')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`sidep exited early (${code}): ${out}`)))
  })
}

t.test('SIGKILL in the middle of a batch, then a restart: exactly one row per result in both stores', async (t) => {
  const env = await createTestEnv(t, { processorBatch: 2, ackWaitSeconds: 3, clickhouseBatch: 20 })
  await env.addLab('lab-k')
  const js = env.nc.jetstream()
  const subject = `${env.config.subjectRoot}.ingest.lab-k`
  const db = env.config.clickhouseDatabase
  const children: ChildProcess[] = []
  t.teardown(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')))

  const bodies: string[] = []
  for (let m = 0; m < MESSAGES; m++) {
    bodies.push(JSON.stringify(Array.from({ length: PER_MESSAGE }, (_, i) => makeItem({ accession: `K-${m}-${i}` }))))
    await js.publish(subject, bodies[m])
  }
  // the first message sent again, byte for byte: its items are duplicates, not new results
  await js.publish(subject, bodies[0])

  const first = await startChild(env.env)
  children.push(first)
  const seenBeforeKill = await eventually('a part of the results committed', async () => {
    const n = (await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n as number
    return n > 0 && n < TOTAL ? n : undefined
  }, 60_000)
  first.kill('SIGKILL')
  await once(first, 'exit')
  t.ok(seenBeforeKill < TOTAL, `killed with ${seenBeforeKill} of ${TOTAL} results committed`)

  const second = await startChild(env.env)
  children.push(second)
  await eventually('every result in PostgreSQL', async () => (await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n === TOTAL, 120_000)
  await eventually('every result in ClickHouse', async () => {
    const [r] = await chRows<{ n: string }>(env.ch, `SELECT count() AS n FROM ${db}.result_facts FINAL`)
    return r.n === String(TOTAL)
  }, 120_000)
  second.kill('SIGTERM')
  await once(second, 'exit')

  const pg = (await env.pg.query(`SELECT count(*)::int AS rows, count(DISTINCT (lab_id, accession, loinc))::int AS keys, max(version) AS v FROM results`)).rows[0]
  t.same(pg, { rows: TOTAL, keys: TOTAL, v: 1 }, 'PostgreSQL: one row and one version per result')
  const items = (await env.pg.query(`SELECT status, count(*)::int AS n FROM submission_items GROUP BY status ORDER BY status`)).rows
  t.same(items, [{ status: 'duplicate', n: PER_MESSAGE }, { status: 'stored', n: TOTAL }], 'each item has exactly one outcome')
  await env.ch.command({ query: `OPTIMIZE TABLE ${db}.result_facts FINAL` })
  const [ch] = await chRows<{ rows: string; ids: string }>(env.ch, `SELECT count() AS rows, uniqExact(result_id) AS ids FROM ${db}.result_facts`)
  t.same(ch, { rows: String(TOTAL), ids: String(TOTAL) }, 'ClickHouse: one row per result once merged')
})
