import t from 'tap'
import { MllpFrameDecoder, encodeFrame } from '../../pipeline/mllp/frame-decoder.ts'
import { securityField } from '../../pipeline/mllp/listener.ts'

t.test('frames split anywhere are reassembled; several in one chunk come out in order', async (t) => {
  const bytes = Buffer.concat([encodeFrame('MSH|a\r'), encodeFrame('MSH|b\r'), encodeFrame('MSH|c\r')])
  for (let cut = 1; cut < bytes.length; cut++) {
    const d = new MllpFrameDecoder(1024)
    const got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))].map(String)
    if (got.join() !== 'MSH|a\r,MSH|b\r,MSH|c\r') t.fail(`cut at ${cut}: ${JSON.stringify(got)}`)
  }
  t.pass('every split point gives the three frames')
})

t.test('bytes outside frames are dropped, a 0x1C inside a payload not followed by CR is data', async (t) => {
  const d = new MllpFrameDecoder(1024)
  const got = d.push(Buffer.concat([Buffer.from('noise'), encodeFrame(Buffer.from([0x41, 0x1c, 0x42])), Buffer.from('\r\n')]))
  t.same(got.map((b) => [...b]), [[0x41, 0x1c, 0x42]])
})

t.test('a frame that never ends is refused once it passes the size bound', async (t) => {
  const d = new MllpFrameDecoder(16)
  t.same(d.push(Buffer.from([0x0b, 0x41])), [])
  t.throws(() => d.push(Buffer.alloc(32, 0x41)), { code: 'MLLP_FRAME_TOO_LARGE' })
})

t.test('MSH-8 is read with the separator the message declares', async (t) => {
  t.equal(securityField('MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101||ORU^R01|1|P|2.5.1\rPID|1'), null, 'empty MSH-8')
  t.equal(securityField('MSH|^~\\&|APP|FAC|RAPP|RFAC|20240101|tok123|ORU^R01|1|P|2.5.1\rPID|1'), 'tok123')
  t.equal(securityField('MSH#^~\\&#APP#FAC#RAPP#RFAC#20240101#tok-9#ORU^R01#1#P#2.5.1'), 'tok-9')
  t.equal(securityField('PID|1'), null)
})
