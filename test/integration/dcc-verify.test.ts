// `sidep keys init`, POST /v1/dcc/verify and `sidep dcc verify` against a running platform: good input is
// valid, and each bad input names the step that fails (prefix, base45, zlib, cose, signature, cwt, schema,
// expiry), never a crash.
import t from 'tap'
import { execFile } from 'node:child_process'
import { statSync, writeFileSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createTestEnv, startTestPlatform, postResults, getJson, eventually } from '../helpers/platform.ts'
import { makeItem } from '../helpers/results.ts'
import { generateDevSigner, loadSigner } from '../../workers/dcc/keys.ts'
import { cborEncode } from '../../workers/dcc/cbor.ts'
import { coseSign1 } from '../../workers/dcc/cose.ts'
import { base45Encode, compress, encodeHc1 } from '../../workers/dcc/hc1.ts'
import { signPayload } from '../../workers/dcc/issue.ts'

interface Run { code: number; stdout: string; stderr: string }

function sidep(env: Record<string, string>, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/sidep.js', ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

t.test('keys init, then the platform signs with those keys; verify over HTTP and on the command line', async (t) => {
  const env = await createTestEnv(t)
  const dccDir = join(env.config.dataDir, 'dcc')

  // sidep keys init: an ES256 key (0600) and a self-signed DSC; again: kept; --rotate: new, old one trusted
  const init = await sidep(env.env, ['keys', 'init'])
  t.equal(init.code, 0, init.stderr)
  const firstKid = /kid (\S+),/.exec(init.stdout)?.[1]
  t.ok(firstKid, init.stdout)
  t.equal(statSync(join(dccDir, 'signer.key.pem')).mode & 0o777, 0o600, 'the private key is readable by its owner only')
  const material = { privateKeyPem: readFileSync(join(dccDir, 'signer.key.pem'), 'utf8'), certificatePem: readFileSync(join(dccDir, 'signer.cert.pem'), 'utf8') }
  t.equal(loadSigner(material).alg, 'ES256')
  const again = await sidep(env.env, ['keys', 'init'])
  t.match(again.stdout, new RegExp(`kept the existing[\\s\\S]*kid ${firstKid!.replace(/[+/=]/g, '\\$&')}`))
  const rotated = await sidep(env.env, ['keys', 'init', '--rotate'])
  t.equal(rotated.code, 0, rotated.stderr)
  const activeKid = /kid (\S+),/.exec(rotated.stdout)?.[1]
  t.not(activeKid, firstKid)
  t.match(rotated.stdout, `previous signer ${firstKid}`)
  t.equal(readdirSync(join(dccDir, 'trusted')).length, 1)

  const platform = await startTestPlatform(t, env)
  const trustList = await getJson(`${platform.url}/v1/trust-list`, null)
  t.same(trustList.body.certificates.map((c: { kid: string }) => c.kid), [activeKid, firstKid], 'the active signer first, the rotated one still trusted')

  // one real certificate through the pipeline
  const token = await env.addLab('lab-ver')
  const sent = await postResults(platform.url, token, [makeItem({ accession: 'VER-1' })])
  const resultId = await eventually('stored', async () => {
    const s = await getJson(`${platform.url}/v1/submissions/${sent.body.submissionId}`, token)
    return s.body.items?.[0]?.status === 'stored' ? s.body.items[0].resultId : undefined
  })
  const cert = await eventually('certificate', async () => {
    const r = await getJson(`${platform.url}/v1/results/${resultId}/certificate`, token)
    return r.status === 200 ? r.body : undefined
  })

  // bad inputs, each broken at one step; those past the signature are signed with the platform's own key
  const signer = loadSigner({ privateKeyPem: readFileSync(join(dccDir, 'signer.key.pem'), 'utf8'), certificatePem: readFileSync(join(dccDir, 'signer.cert.pem'), 'utf8') })
  const stranger = (await generateDevSigner()).signer
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: 'FR', iat: now, exp: now + 3600 }
  const goodPayload = JSON.parse(JSON.stringify((await verifyOverHttp(cert.hc1)).payload))
  const bad: Array<[string, string, string]> = [
    ['prefix', 'HC2:' + cert.hc1.slice(4), 'DCC_BAD_PREFIX'],
    ['base45', cert.hc1.slice(0, -1) + '!', 'DCC_BAD_BASE45'],
    ['zlib', 'HC1:' + base45Encode(Buffer.from('this is not zlib data')), 'DCC_BAD_ZLIB'],
    ['cose', 'HC1:' + base45Encode(compress(cborEncode(['not', 'a', 'COSE_Sign1']))), 'DCC_BAD_COSE'],
    ['signature', signPayload(goodPayload, claims, stranger), 'DCC_UNKNOWN_KID'],
    ['cwt', encodeHc1(coseSign1(cborEncode('not a CWT'), signer)), 'DCC_BAD_CWT'],
    ['schema', signPayload({ ver: '1.3.0', nam: { fnt: 'lower case' }, dob: 'yesterday', t: [{}] }, claims, signer), 'DCC_SCHEMA_INVALID'],
    ['expiry', signPayload(goodPayload, { iss: 'FR', iat: now - 7200, exp: now - 3600 }, signer), 'DCC_EXPIRED'],
  ]

  async function verifyOverHttp(body: unknown, contentType = 'text/plain'): Promise<any> {
    const res = await fetch(`${platform.url}/v1/dcc/verify`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    t.equal(res.status, 200)
    return res.json()
  }

  // POST /v1/dcc/verify: public (no token), text or JSON
  const good = await verifyOverHttp(cert.hc1)
  t.match(good, { valid: true, header: { alg: 'ES256', kid: activeKid }, claims: { iss: 'FR' }, payload: { nam: { fnt: 'DUPONT<LEFEVRE' }, t: [{ ci: cert.ci }] } })
  t.notOk(good.failedStep)
  t.match(await verifyOverHttp({ hc1: cert.hc1 }, 'application/json'), { valid: true })
  t.match(await verifyOverHttp({ hc1: cert.hc1, now: '2099-01-01T00:00:00Z' }, 'application/json'), { valid: false, failedStep: 'expiry', error: { code: 'DCC_EXPIRED' } }, 'the clock is the caller\'s')
  for (const [step, hc1, code] of bad) {
    t.match(await verifyOverHttp(hc1), { valid: false, failedStep: step, error: { code } }, `HTTP: ${step} (${code})`)
  }
  const notJson = await fetch(`${platform.url}/v1/dcc/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hc1":' })
  t.equal(notJson.status, 400)
  const noHc1 = await fetch(`${platform.url}/v1/dcc/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"now":"2026-01-01T00:00:00Z"}' })
  t.match(await noHc1.json(), { code: 'INVALID_VALUE', field: 'hc1' })
  t.match(await (await fetch(`${platform.url}/metrics`)).text(), /sidep_dcc_verifications_total\{outcome="valid"\} 3/)

  // sidep dcc verify: the local trust list (this data dir), a file, --cert, --now, --trust-list <url>
  const ok = await sidep(env.env, ['dcc', 'verify', cert.hc1])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /"fnt": "DUPONT<LEFEVRE"/)
  t.match(ok.stdout, /^VALID/m)
  const file = join(env.config.dataDir, 'qr.txt')
  writeFileSync(file, cert.hc1 + '\n')
  t.equal((await sidep(env.env, ['dcc', 'verify', file])).code, 0, 'HC1 read from a file')
  const viaUrl = await sidep(env.env, ['dcc', 'verify', cert.hc1, '--trust-list', `${platform.url}/v1/trust-list`])
  t.equal(viaUrl.code, 0, viaUrl.stdout + viaUrl.stderr)
  const expired = await sidep(env.env, ['dcc', 'verify', cert.hc1, '--now', '2099-01-01T00:00:00Z'])
  t.equal(expired.code, 1)
  t.match(expired.stdout, /^INVALID at step expiry: DCC_EXPIRED/m)
  const strangerPem = join(env.config.dataDir, 'stranger.pem')
  writeFileSync(strangerPem, stranger.certificate.toString())
  const wrongCert = await sidep(env.env, ['dcc', 'verify', cert.hc1, '--cert', strangerPem])
  t.equal(wrongCert.code, 1)
  t.match(wrongCert.stdout, /^INVALID at step signature: DCC_UNKNOWN_KID/m)
  for (const [step, hc1, code] of bad) {
    const r = await sidep(env.env, ['dcc', 'verify', hc1])
    t.equal(r.code, 1, `CLI exit code for ${step}`)
    t.match(r.stdout, new RegExp(`^INVALID at step ${step}: ${code}`, 'm'), `CLI: ${step} (${code})`)
  }
  // one of the official dgc-testdata files, with its own certificate and validation clock
  const official = await sidep(env.env, ['dcc', 'verify', 'test/fixtures/dcc/testdata/AT/2DCode/raw/1.json'])
  t.equal(official.code, 0, official.stdout)
  const usage = await sidep(env.env, ['dcc', 'verify'])
  t.equal(usage.code, 2)
  t.match(usage.stderr, /usage: sidep dcc verify/)
})
