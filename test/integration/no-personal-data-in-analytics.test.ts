import t from 'tap'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { startPlatform } from '../../pipeline/platform.ts'
import { createTestEnv, postResults, eventually, chRows } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'

const PEOPLE = [
  { family: 'Quérard-Zébulon', given: ['Théophane'], birthDate: '1937-05-21', sex: 'M', phone: '+33611223344', email: 'theo.querard@example.fr', ins: nirWithKey('1370575056123'), address: { line: '3 impasse des Glycines', postcode: '13001', city: 'Marseille', country: 'FR' } },
  { family: "O'Brien-Kowalczyk", given: ['Ysolde', 'Maëlle'], birthDate: '2003-11-09', sex: 'F', phone: '+33799887766', email: 'ysolde.ob@example.fr', address: { line: '77 chemin du Moulin', postcode: '29200', city: 'Brest', country: 'FR' } },
]

function needles(): string[] {
  const out: string[] = []
  for (const p of PEOPLE) {
    out.push(p.family, p.family.toUpperCase(), p.family.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase(), ...p.given, p.birthDate, p.birthDate.replaceAll('-', ''), p.phone, p.phone.slice(1), p.phone.slice(3), p.email, p.address.line, p.address.city)
    if (p.ins) out.push(p.ins, p.ins.slice(0, 13))
  }
  return out
}

t.test('no name, birth date, phone, e-mail, address or INS reaches ClickHouse, the FEED, the logs or the metrics', async (t) => {
  const env = await createTestEnv(t)
  const lines: string[] = []
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const platform = await startPlatform(env.config, pino({ level: 'debug' }, sink))
  t.teardown(() => platform.stop())
  const token = await env.addLab('lab-priv')
  const items = PEOPLE.flatMap((p, n) => [
    makeItem({ accession: `PR-${n}-1`, patient: p }),
    makeItem({ accession: `PR-${n}-2`, loinc: '94563-4', value: 12.5, unit: 'AU/mL', patient: p }),
  ])
  const res = await postResults(platform.url, token, items)
  t.equal(res.status, 202)
  t.equal(res.body.accepted, 4)
  const db = env.config.clickhouseDatabase
  await eventually('facts in ClickHouse', async () => (await chRows<{ n: string }>(env.ch, `SELECT count() AS n FROM ${db}.result_facts`))[0].n === '4')

  const tables = await chRows<{ name: string }>(env.ch, `SELECT name FROM system.tables WHERE database = '${db}'`)
  t.ok(tables.length >= 1, 'there are tables to scan')
  let dump = ''
  for (const { name } of tables) {
    const r = await env.ch.query({ query: `SELECT * FROM ${db}.${name}`, format: 'TabSeparatedWithNames' })
    dump += await r.text()
  }
  t.ok(dump.includes('lab-priv'), 'the scan reads the rows (it finds the lab id)')

  const jsm = await env.nc.jetstreamManager()
  const feedInfo = await jsm.streams.info(platform.topology.feedStream)
  let feed = ''
  for (let seq = feedInfo.state.first_seq; seq <= feedInfo.state.last_seq; seq++) {
    feed += (await jsm.streams.getMessage(platform.topology.feedStream, { seq })).string()
  }
  t.ok(feed.includes('sidep.feed.pseudo/v1'), 'the scan reads the FEED messages')

  const metrics = await (await fetch(`${platform.url}/metrics`)).text()
  const logs = lines.join('')
  t.ok(logs.includes('batch_committed'), 'the scan reads the logs')
  for (const needle of needles()) {
    t.notOk(dump.includes(needle), `ClickHouse holds no '${needle.slice(0, 3)}…'`)
    t.notOk(feed.includes(needle), `FEED holds no '${needle.slice(0, 3)}…'`)
    t.notOk(logs.includes(needle), `logs hold no '${needle.slice(0, 3)}…'`)
    t.notOk(metrics.includes(needle), `metrics hold no '${needle.slice(0, 3)}…'`)
  }
  // what ClickHouse does hold instead
  const facts = await chRows<{ age_band: string; department: string }>(env.ch, `SELECT age_band, department FROM ${db}.result_facts FINAL ORDER BY age_band`)
  t.same(facts.map((f) => `${f.age_band} ${f.department}`), ['20-29 29', '20-29 29', '80-89 13', '80-89 13'])
})
