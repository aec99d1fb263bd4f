import t from 'tap'
import { readFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestEnv, startTestPlatform, postResults, getJson, eventually } from '../helpers/platform.ts'

const HEADER = readFileSync(new URL('../../workers/parse/results-template.csv', import.meta.url), 'utf8').trim()
const recent = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3600_000).toISOString()

function row(accession: string, o: Partial<Record<string, string>> = {}): string {
  const v: Record<string, string> = {
    accession, loinc: '94500-6', result: '260373001', value: '', unit: '', status: 'final', sampledAt: recent(20), resultedAt: recent(2),
    specimen: '', device: '', orderId: '', ins: '', family: 'Lefèvre', given: 'Jeanne', birthDate: '1961-04-05', sex: 'F',
    addressLine: '', postcode: '69003', city: 'Lyon', country: 'FR', phone: '', email: '', prescriberId: '', prescriberIdType: '', prescriberFamily: '', prescriberGiven: '', ...o,
  }
  return HEADER.split(',').map((c) => v[c] ?? '').join(',')
}

t.test('CSV uploads: French export, bad rows by row number, wrong header, quoted line breaks', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-csv')

  // the shipped fixture: BOM, semicolons, a quoted address over two lines, a short row, a non-numeric value
  const french = await postResults(platform.url, token, readFileSync(new URL('../fixtures/csv/results-semicolon-bom.csv', import.meta.url)), 'text/csv')
  t.equal(french.status, 202)
  t.equal(french.body.accepted, 2)
  t.same(french.body.rejected.map((r: { index: number; code: string; field: string }) => `${r.index} ${r.code} ${r.field}`), ['2 SYNTAX row 4', '3 DATA_TYPE row 5 column value'])
  const lines = await eventually('rows stored', async () => {
    const { rows } = await env.pg.query(`SELECT record->'patient'->>'family' AS family, record->>'value' AS value FROM results ORDER BY accession`)
    return rows.length === 2 ? rows : undefined
  })
  t.same(lines, [{ family: 'Dupont-Lefèvre', value: null }, { family: 'Martin "dit Paulo"', value: '12.5' }], 'quotes and the decimal comma are read as a spreadsheet writes them')
  const view = await eventually('statuses', async () => {
    const s = await getJson(`${platform.url}/v1/submissions/${french.body.submissionId}`, token)
    return s.body.items.every((i: { status: string }) => i.status !== 'pending') ? s.body.items : undefined
  })
  t.same(view.map((i: { status: string }) => i.status), ['stored', 'stored', 'rejected', 'rejected'], 'one status per spreadsheet row')

  const wrongHeader = await postResults(platform.url, token, 'accession,loinc,outcome\nA,94500-6,260373001\n', 'text/csv')
  t.equal(wrongHeader.status, 400)
  t.equal(wrongHeader.body.code, 'BAD_HEADER')

  const mixed = [HEADER, row('C-1'), row('C-2', { birthDate: '1961-13-05' }), row('C-3', { addressLine: '"Résidence Les Pins\nBât. C"' }), row('C-4', { loinc: '11111-1' })].join('\r\n')
  const res = await postResults(platform.url, token, mixed, 'text/csv')
  t.equal(res.status, 202)
  t.equal(res.body.accepted, 2)
  t.same(res.body.rejected.map((r: { index: number; code: string; field: string }) => `row ${r.index + 2} ${r.code} ${r.field}`), ['row 3 INVALID_BIRTH_DATE patient.birthDate', 'row 5 UNKNOWN_LOINC loinc'])
  const address = await eventually('C-3 stored', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession = 'C-3'`)).rowCount === 1)
  t.ok(address)

  // the same upload saved by an old Excel in Windows-1252: accents must survive (é = 0xE9, è = 0xE8)
  const cp1252 = Buffer.from([HEADER, row('W-1', { family: 'Lef\u00e8vre', given: 'H\u00e9l\u00e8ne' })].join('\n'), 'latin1')
  const legacy = await postResults(platform.url, token, cp1252, 'text/csv')
  t.equal(legacy.status, 202)
  const names = await eventually('W-1 stored', async () => (await env.pg.query(`SELECT record->'patient' AS p FROM results WHERE accession = 'W-1'`)).rows[0])
  t.same([names.p.family, names.p.given], ['Lefèvre', ['Hélène']])
})

t.test('a 10,000-row CSV streams through in batches and every row lands once', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-bulk')
  const N = 10_000
  const rows = [HEADER]
  for (let i = 0; i < N; i++) rows.push(row(`B-${i}`, { family: `Nom${i}`, birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}` }))
  const res = await postResults(platform.url, token, rows.join('\n'), 'text/csv')
  t.equal(res.status, 202)
  t.equal(res.body.accepted, N)
  await eventually('all rows stored', async () => (await env.pg.query('SELECT count(*)::int AS n FROM results')).rows[0].n === N, 120_000)
  const chunks = (await env.pg.query(`SELECT item_count FROM submissions`)).rows
  t.same(chunks, [{ item_count: N }], 'one submission with every row')
})

t.test('sidep submit detects the format and prints the itemised outcome', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-cli')
  const dir = mkdtempSync(join(tmpdir(), 'sidep-submit-'))
  const file = join(dir, 'upload.txt')
  writeFileSync(file, [HEADER, row('S-1'), row('S-2', { sex: 'X' })].join('\n'))
  const run = promisify(execFile)
  const { stdout } = await run(process.execPath, ['bin/sidep.js', 'submit', file, '--lab', 'lab-cli', '--token', token, '--url', platform.url, '--wait'], { env: { PATH: process.env.PATH } }).catch((e) => e)
  t.match(stdout, /csv → HTTP 202, submission [0-9a-f-]{36}/)
  t.match(stdout, /accepted 1, rejected 1/)
  t.match(stdout, /item 1 {2}INVALID_VALUE {2}patient\.sex/)
  t.match(stdout, /processed: rejected 1, stored 1|processed: stored 1, rejected 1/)
  const hl7 = await run(process.execPath, ['bin/sidep.js', 'submit', 'test/fixtures/hl7/single_message.hl7', '--lab', 'lab-cli', '--token', token, '--url', platform.url], { env: { PATH: process.env.PATH } })
  t.match(hl7.stdout, /hl7v2 → HTTP 202/)
  const wrongLab = await run(process.execPath, ['bin/sidep.js', 'submit', file, '--lab', 'lab-other', '--token', token, '--url', platform.url], { env: { PATH: process.env.PATH } }).catch((e) => e)
  t.match(wrongLab.stderr, /TOKEN_LAB_MISMATCH/)
})
