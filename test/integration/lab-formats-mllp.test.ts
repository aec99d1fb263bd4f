import t from 'tap'
import { readFileSync } from 'node:fs'
import { createTestEnv, startTestPlatform, eventually } from '../helpers/platform.ts'
import { MllpTestClient, msaCodes } from '../helpers/mllp-client.ts'
import { encodeFrame } from '../../pipeline/mllp/frame-decoder.ts'

/** The sample report with the lab token in MSH-8 (Security) and its own accession, so each send is a new result. */
function message(token: string, accession: string, opts: { sex?: string } = {}): string {
  const text = readFileSync(new URL('../fixtures/hl7/sample_AK_20240220-0001.hl7', import.meta.url), 'utf8').replace(/\r?\n/g, '\r').trim()
  return text
    .split('\r')
    .map((seg) => {
      const f = seg.split('|')
      if (f[0] === 'MSH') f[7] = token
      if (f[0] === 'PID' && opts.sex) f[8] = opts.sex
      if ((f[0] === 'ORC' || f[0] === 'OBR') && f[3]) f[3] = f[3].replace(/^[^^]*/, accession)
      return f.join('|')
    })
    .join('\r') + '\r'
}

t.test('MLLP: ACK after JetStream stored it, frames split across packets or packed together, NAK naming the field', async (t) => {
  const env = await createTestEnv(t)
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-mllp')
  t.ok(platform.mllpPort, 'the listener is up')
  const client = await MllpTestClient.connect(platform.mllpPort!)
  t.teardown(() => client.close())

  // 1. one message split across three TCP packets
  const first = encodeFrame(message(token, 'M-1'))
  await client.write(first.subarray(0, 7))
  await new Promise((r) => setTimeout(r, 50))
  await client.write(first.subarray(7, 200))
  await new Promise((r) => setTimeout(r, 50))
  await client.write(first.subarray(200))
  const [ack1] = await client.acks(1)
  t.same(msaCodes(ack1), ['AA'])
  t.match(ack1, /^MSH\|\^~\\&\|/, 'the ACK is an HL7 message')
  await eventually('M-1 stored', async () => (await env.pg.query(`SELECT 1 FROM results WHERE lab_id = 'lab-mllp' AND accession = 'M-1'`)).rowCount === 1)

  // 2. two messages in one packet, then a bad one: three ACK frames, in order
  await client.write(Buffer.concat([encodeFrame(message(token, 'M-2')), encodeFrame(message(token, 'M-3')), encodeFrame(message(token, 'M-4', { sex: 'X' }))]))
  const acks = await client.acks(4)
  t.same(acks.slice(1).map((a) => msaCodes(a)[0]), ['AA', 'AA', 'AE'])
  t.match(acks[3], /\rERR\|\|PID\^1\^8\^1\|103\^/, 'the NAK says PID-8 holds a value outside table 0001')
  await eventually('M-2 and M-3 stored', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession IN ('M-2', 'M-3')`)).rowCount === 2)
  t.equal((await env.pg.query(`SELECT 1 FROM results WHERE accession = 'M-4'`)).rowCount, 0)

  // 3. a wrong token in MSH-8: AR, nothing stored
  await client.write(encodeFrame(message('sidep_lab-mllp_wrong', 'M-5')))
  const [, , , , ack5] = await client.acks(5)
  t.same(msaCodes(ack5), ['AR'])
  t.match(ack5, /UNAUTHORIZED/)
  t.notOk(ack5.includes('sidep_lab-mllp_wrong'), 'the ACK does not echo the token')
  const statuses = (await env.pg.query(`SELECT count(*)::int AS n FROM submissions WHERE source = 'mllp'`)).rows[0].n
  t.equal(statuses, 3, 'each frame with an accepted result is a submission; an entirely rejected one is answered by its NAK alone')
})

t.test('MLLP over TLS: the same exchange inside a TLS session', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const tls = await import('node:tls')
  const dir = mkdtempSync(join(tmpdir(), 'sidep-mllp-tls-'))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  const env = await createTestEnv(t, { mllpTlsKeyFile: key, mllpTlsCertFile: cert })
  const platform = await startTestPlatform(t, env)
  const token = await env.addLab('lab-tls')
  const socket = tls.connect({ port: platform.mllpPort!, host: '127.0.0.1', ca: readFileSync(cert), servername: '127.0.0.1', checkServerIdentity: () => undefined })
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject))
  t.teardown(() => socket.end())
  const answer = new Promise<string>((resolve) => {
    let got = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.includes(0x1c)) resolve(got.toString('utf8'))
    })
  })
  socket.write(encodeFrame(message(token, 'T-1')))
  t.same(msaCodes((await answer).replace(/^\x0b|\x1c\r$/g, '')), ['AA'], 'acknowledged over TLS')
  await eventually('T-1 stored', async () => (await env.pg.query(`SELECT 1 FROM results WHERE accession = 'T-1'`)).rowCount === 1)
})
