// HL7 v2.5.1 ACK building (MSA, ERR with ERR-2 location and table 0357 codes).
import t from 'tap'
import { buildAck, hl7LocationOf, parseHl7v2 } from '../../workers/parse/hl7v2.ts'
import { parseLocation, table0357 } from '../../workers/parse/hl7-ack.ts'

const MSG =
  'MSH|^~\\&|LIS^1.2.3^ISO|LAB^9.8.7^ISO|SIDEP|SIDEP|20261124150200+0100||ORU^R01^ORU_R01|CTRL-42|P|2.5.1\r' +
  'PID|1||X^^^L||DOE^John||19800101|O\r' +
  'OBR|1||ACC1|94500-6^^LN|||202611240830+0100\r' +
  'OBX|1|CWE|94500-6^^LN||260373001^^SCT||||||F'
const now = new Date(Date.UTC(2026, 10, 24, 14, 5, 0))

t.test('AA for an accepted message: sender and receiver swapped, control id echoed', async (t) => {
  const header = parseHl7v2(MSG).ack.messages[0]!.header
  const ack = buildAck(header, {}, { controlId: 'ACK1', now })
  const segs = ack.split('\r')
  t.equal(segs[0], 'MSH|^~\\&|SIDEP||LIS^1.2.3^ISO|LAB^9.8.7^ISO|20261124140500+0000||ACK^R01^ACK|ACK1|P|2.5.1')
  t.equal(segs[1], 'MSA|AA|CTRL-42')
  t.equal(segs.length, 2)
})

t.test('AE with one ERR per error: location, table 0357, severity, sidep code, escaped text', async (t) => {
  const out = parseHl7v2(MSG)
  const header = out.ack.messages[0]!.header
  const ack = buildAck(header, { errors: out.errors }, { controlId: 'ACK2', now })
  const segs = ack.split('\r')
  t.equal(segs[1], 'MSA|AE|CTRL-42')
  t.match(segs[2], /^ERR\|\|PID\^1\^8\^1\|103\^Table value not found\^HL70357\|E\|UNSUPPORTED_CODE\^\^99SIDEP\|\|\|PID-8 administrative sex 'O'/)
  const esc = buildAck(header, { errors: [{ code: 'UNKNOWN_LOINC', field: hl7LocationOf('loinc', 'message 1 OBX 2'), message: 'a|b^c' }] }, { now })
  t.match(esc.split('\r')[2], /^ERR\|\|OBX\^2\^3\^1\|103\^Table value not found\^HL70357\|E\|UNKNOWN_LOINC\^\^99SIDEP\|\|\|a\\F\\b\\S\\c$/)
})

t.test('AR when the message itself cannot be processed; warnings keep AA', async (t) => {
  const out = parseHl7v2(MSG.replace('ORU^R01^ORU_R01', 'ORM^O01^ORM_O01'))
  const ack = buildAck(out.ack.messages[0]!.header, { errors: out.errors }, { now })
  t.match(ack.split('\r')[1], /^MSA\|AR\|CTRL-42$/)
  t.match(ack.split('\r')[2], /^ERR\|\|MSH\^1\^9\^1\|200\^Unsupported message type/)
  const warnOnly = buildAck(out.ack.messages[0]!.header, { errors: [{ code: 'OMITTED', field: 'PID-13', message: 'phone', severity: 'W' }] }, { now })
  t.match(warnOnly.split('\r')[1], /^MSA\|AA\|/)
  t.match(warnOnly.split('\r')[2], /\|W\|/)
  t.match(buildAck(null, {}, { now }).split('\r')[1], /^MSA\|AR\|$/, 'unreadable MSH')
})

t.test('ACK uses the encoding characters of the message it answers', async (t) => {
  const swap = (s: string) => s.replace(/[|^~\\&]/g, (c) => ({ '|': '#', '^': '$', '~': '*', '\\': '@', '&': '!' })[c]!)
  const header = parseHl7v2(swap(MSG)).ack.messages[0]!.header
  const ack = buildAck(header, {}, { now, controlId: 'A' })
  t.match(ack, /^MSH#\$\*@!#SIDEP##LIS\$1\.2\.3\$ISO#/)
  t.match(ack.split('\r')[1], /^MSA#AA#CTRL-42$/)
})

t.test('locations and table 0357', async (t) => {
  t.strictSame(parseLocation('OBX(2)-5.1'), ['OBX', '2', '5', '1', '1', ''])
  t.strictSame(parseLocation('PID-7'), ['PID', '1', '7', '1', '', ''])
  t.equal(parseLocation('patient.sex'), null)
  t.equal(hl7LocationOf('patient.birthDate'), 'PID-7')
  t.equal(hl7LocationOf('result', 'message 4 OBX 3'), 'OBX(3)-5')
  t.equal(hl7LocationOf('PID-8'), 'PID-8')
  t.strictSame(table0357('REQUIRED_MISSING'), ['101', 'Required field missing'])
  t.strictSame(table0357('DATA_TYPE'), ['102', 'Data type error'])
  t.strictSame(table0357('UNSUPPORTED_VERSION'), ['203', 'Unsupported version id'])
})
