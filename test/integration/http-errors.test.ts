import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createTestEnv, startTestPlatform, postResults } from '../helpers/platform.ts'
import { makeItem, nirWithKey } from '../helpers/results.ts'

t.test('bad requests get a stable code and an itemised list, and nothing is stored', async (t) => {
  const env = await createTestEnv(t, { bodyLimit: 64 * 1024, maxItems: 50 })
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-e')
  const url = platform.url

  const noToken = await postResults(url, null, [makeItem()])
  t.equal(noToken.status, 401)
  t.equal(noToken.body.code, 'UNAUTHORIZED')
  const badToken = await postResults(url, 'sidep_lab-e_not-the-token', [makeItem()])
  t.equal(badToken.status, 401)

  const malformed = await postResults(url, token, '{"accession": "x",')
  t.equal(malformed.status, 400)
  t.equal(malformed.body.code, 'MALFORMED_JSON')

  const big = await postResults(url, token, JSON.stringify([makeItem({ orderId: 'x'.repeat(70 * 1024) })]))
  t.equal(big.status, 413)
  t.equal(big.body.code, 'BODY_TOO_LARGE')

  const many = await postResults(url, token, Array.from({ length: 51 }, (_, i) => makeItem({ accession: `M-${i}` })))
  t.equal(many.status, 413)
  t.equal(many.body.code, 'TOO_MANY_ITEMS')

  const wrongType = await postResults(url, token, 'accession,loinc\n', 'text/plain')
  t.equal(wrongType.status, 415)
  t.equal(wrongType.body.code, 'UNSUPPORTED_MEDIA_TYPE')

  const future = new Date(Date.now() + 3600_000).toISOString()
  const invalid = await postResults(url, token, [
    makeItem({ accession: 'E-1', loinc: '12345-6' }),
    makeItem({ accession: 'E-2', sampledAt: '2019-12-31T10:00:00Z', resultedAt: future }),
    makeItem({ accession: 'E-3', patient: { ins: nirWithKey('2840375123456').slice(0, 13) + '99' } }),
    makeItem({ accession: 'E-4', patient: { birthDate: '1984-02-30' } }),
  ])
  t.equal(invalid.status, 400, 'an entirely invalid submission is a 400')
  t.equal(invalid.body.accepted, 0)
  const got = invalid.body.rejected.map((r: { index: number; code: string; field: string }) => `${r.index} ${r.code} ${r.field}`).sort()
  t.same(got, [
    '0 UNKNOWN_LOINC loinc',
    '1 DATE_BEFORE_2020 sampledAt',
    '1 RESULTED_IN_FUTURE resultedAt',
    '2 INVALID_NIR_KEY patient.ins',
    '3 INVALID_BIRTH_DATE patient.birthDate',
  ])
  t.ok(invalid.body.rejected.every((r: { message: string }) => r.message.length > 10), 'each error has a message')

  const mixed = await postResults(url, token, [makeItem({ accession: 'OK-1' }), makeItem({ accession: 'E-5', result: '10828004' })])
  t.equal(mixed.status, 202, 'a partly valid submission is accepted for its valid items')
  t.equal(mixed.body.accepted, 1)
  t.same(mixed.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]), [[1, 'RESULT_NOT_VALID_FOR_TEST']])

  // a revoked lab is refused from then on (the CLI revokes in another process)
  execFileSync(process.execPath, ['bin/sidep.js', 'lab', 'revoke', 'lab-e'], { env: { PATH: process.env.PATH, ...env.env } })
  const revoked = await postResults(url, token, [makeItem({ accession: 'R-1' })])
  t.equal(revoked.status, 401)
  t.equal(revoked.body.code, 'UNAUTHORIZED')
})

t.test('sidep lab add prints the token alone on the last line and stores only its hash', async (t) => {
  const env = await createTestEnv(t)
  const run = (...args: string[]) => execFileSync(process.execPath, ['bin/sidep.js', ...args], { env: { PATH: process.env.PATH, ...env.env }, encoding: 'utf8' })
  const out = run('lab', 'add', 'lab-cli', '--name', 'Laboratoire du Centre')
  const token = out.trimEnd().split('\n').at(-1)!
  t.match(token, /^sidep_lab-cli_[A-Za-z0-9_-]{43}$/)
  const stored = (await env.pg.query('SELECT name, token_hash FROM labs')).rows
  t.equal(stored.length, 1)
  t.equal(stored[0].name, 'Laboratoire du Centre')
  t.not(stored[0].token_hash.toString('utf8'), token, 'the token itself is not stored')
  t.match(run('lab', 'list'), /lab-cli\tactive\tLaboratoire du Centre/)
  t.throws(() => run('lab', 'add', 'lab-cli', '--name', 'again'), 'adding the same lab twice fails')
})
