// HL7 v2 syntax the parser must honour: segment endings, encoding characters from MSH-1/MSH-2, escape
// sequences (HL7 v2.5.1 2.7), repetitions, and message-by-message isolation of errors.
import t from 'tap'
import { parseHl7v2 } from '../../workers/parse/hl7v2.ts'

const MSH = 'MSH|^~\\&|LIS|LAB^1.2.250.1.71.4.2.2^ISO|SIDEP|SIDEP|20261124150200+0100||ORU^R01^ORU_R01|CTRL-1|P|2.5.1|||AL|NE|FRA'
const PID =
  'PID|1||IPP123^^^LAB&1.2.3&ISO^PI~284037512345640^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS||DUPONT\\T\\LEFEVRE^Marie^Anne^^^^L~MARTIN^Marie^^^^^D||19840312|F|||12 rue des Lilas^^Paris^^75013^FRA^H||^PRN^CP^^^^^^^^^06 12 34 56 78~^NET^Internet^marie.dupont@example.fr'
const ORC = 'ORC|RE|ord_7f3a|2026-11-24-000123|||||||||810001234567^MARTIN^Paul^^^^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO^^^^IDNPS'
const OBR = 'OBR|1|ord_7f3a|2026-11-24-000123|94500-6^SARS-CoV-2 RNA^LN|||202611240830+0100|||||||||||||||202611241502+0100|||F'
const OBX = 'OBX|1|CWE|94500-6^SARS-CoV-2 RNA Resp Ql NAA+probe^LN||260373001^D\\E\\tect\\X00E9\\^SCT||||||F'
const SPM = 'SPM|1|||258500001^Nasopharyngeal swab^SCT|||||||||||||202611240830+0100'
const message = (sep = '\r', segs = [MSH, PID, ORC, OBR, OBX, SPM]) => segs.join(sep)

const expected = {
  accession: '2026-11-24-000123',
  loinc: '94500-6',
  result: '260373001',
  status: 'final',
  sampledAt: '2026-11-24T08:30:00+01:00',
  resultedAt: '2026-11-24T15:02:00+01:00',
  specimen: '258500001',
  orderId: 'ord_7f3a',
  patient: {
    ins: '284037512345640',
    family: 'DUPONT&LEFEVRE',
    given: ['Marie', 'Anne'],
    birthDate: '1984-03-12',
    sex: 'F',
    address: { line: '12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' },
    phone: '+33612345678',
    email: 'marie.dupont@example.fr',
  },
  prescriber: { id: '10001234567', idType: 'RPPS', family: 'MARTIN', given: 'Paul' },
}

t.test('CR, LF and CRLF segment endings give the same item', async (t) => {
  for (const sep of ['\r', '\n', '\r\n']) {
    const out = parseHl7v2(message(sep) + sep)
    t.same(out.errors, [], JSON.stringify(sep))
    t.strictSame(out.items[0]?.item, expected, `separator ${JSON.stringify(sep)}`)
  }
})

t.test('escape sequences, INS by OID, legal name among repetitions, French mobile to E.164, RPPS', async (t) => {
  const out = parseHl7v2(message())
  const item = out.items[0]!.item as any
  t.equal(item.patient.family, 'DUPONT&LEFEVRE', '\\T\\ is the sub-component separator, unescaped')
  t.equal(item.patient.ins, '284037512345640', 'PID-3 repetition with authority 1.2.250.1.213.1.4.8')
  t.strictSame(item.patient.given, ['Marie', 'Anne'], 'XPN-7 = L (birth name) chosen over D')
  t.equal(item.patient.phone, '+33612345678', 'national 06 number with a French address')
  t.equal(item.patient.email, 'marie.dupont@example.fr', 'second PID-13 repetition')
})

t.test('\\F\\ \\S\\ \\R\\ \\E\\ and \\X..\\ in a name', async (t) => {
  const pid = PID.replace('DUPONT\\T\\LEFEVRE', 'A\\F\\B\\S\\C\\R\\D\\E\\E\\X4C\\')
  const out = parseHl7v2(message('\r', [MSH, pid, ORC, OBR, OBX, SPM]))
  t.equal((out.items[0]!.item as any).patient.family, 'A|B^C~D\\EL')
})

t.test('custom encoding characters from MSH-1 and MSH-2', async (t) => {
  const swap = (s: string) => s.replace(/[|^~\\&]/g, (c) => ({ '|': '#', '^': '$', '~': '*', '\\': '@', '&': '!' })[c]!)
  const out = parseHl7v2(message('\r', [MSH, PID, ORC, OBR, OBX, SPM].map(swap)))
  t.same(out.errors, [])
  // \T\ (now @T@) stands for this message's sub-component separator, '!'
  t.strictSame(out.items[0]?.item, { ...expected, patient: { ...expected.patient, family: 'DUPONT!LEFEVRE' } })
  t.equal(out.ack.messages[0]!.header!.encodingCharacters, '$*@!')
})

t.test('several result OBX give several items; cancelled and corrected statuses', async (t) => {
  const obx2 = 'OBX|2|CWE|94558-4^SARS-CoV-2 Ag^LN||260415000^Not detected^SCT||||||C'
  const obx3 = 'OBX|3|CWE|94309-2^SARS-CoV-2 RNA^LN||||||||X'
  const aoe = 'OBX|4|CWE|95419-8^Has symptoms^LN||Y^Yes^HL70136||||||F|||||||||||||||QST'
  const out = parseHl7v2(message('\r', [MSH, PID, ORC, OBR, OBX, obx2, obx3, aoe, SPM]))
  t.same(out.errors, [])
  t.strictSame(out.items.map((i) => [i.source, i.item.loinc, i.item.status, i.item.result]), [
    ['message 1 OBX 1', '94500-6', 'final', '260373001'],
    ['message 1 OBX 2', '94558-4', 'corrected', '260415000'],
    ['message 1 OBX 3', '94309-2', 'cancelled', undefined],
  ])
})

t.test('numeric serology: value, UCUM unit, interpretation from OBX-8', async (t) => {
  const obx = 'OBX|1|NM|94505-5^SARS-CoV-2 IgG^LN||12.5|[arb\'U]/mL^^UCUM||POS|||F'
  const out = parseHl7v2(message('\r', [MSH, PID, ORC, OBR, obx, SPM]))
  t.match(out.items[0]!.item, { loinc: '94505-5', value: 12.5, unit: "[arb'U]/mL", result: '260373001' })
  const bad = parseHl7v2(message('\r', [MSH, PID, ORC, OBR, obx.replace('12.5', 'twelve'), SPM]))
  t.strictSame(bad.errors.map((e) => [e.code, e.field]), [['DATA_TYPE', 'OBX-5']])
})

t.test('a date/time without offset is read as Europe/Paris (summer and winter time)', async (t) => {
  const obr = OBR.replace('202611240830+0100', '202607010830').replace('202611241502+0100', '202611241502')
  const spm = SPM.replace('202611240830+0100', '202607010830')
  const out = parseHl7v2(message('\r', [MSH, PID, ORC, obr, OBX, spm]))
  t.equal(out.items[0]!.item.sampledAt, '2026-07-01T08:30:00+02:00')
  t.equal(out.items[0]!.item.resultedAt, '2026-11-24T15:02:00+01:00')
  t.ok(out.warnings.some((w) => /no UTC offset/.test(w.message)))
  const utc = parseHl7v2(message('\r', [MSH, PID, ORC, obr, OBX, spm]), { defaultTimeZone: 'UTC' })
  t.equal(utc.items[0]!.item.sampledAt, '2026-07-01T08:30:00+00:00')
})

t.test('a malformed message is rejected alone, with errors naming HL7 fields', async (t) => {
  const badDate = OBR.replace('202611241502+0100', '20261324')
  const badSex = PID.replace('|F|||', '|X|||')
  const adt = MSH.replace('ORU^R01^ORU_R01', 'ADT^A01^ADT_A01')
  const unknownStatus = OBX.replace(/\|F$/, '|P')
  const input = [
    message(),
    message('\r', [MSH, PID, ORC, badDate, OBX, SPM]),
    message('\r', [MSH, badSex, ORC, OBR, OBX, SPM]),
    message('\r', [adt, PID]),
    message('\r', [MSH, PID, ORC, OBR, unknownStatus, SPM]),
    message('\r', [MSH, PID, ORC, OBR, 'OBX|1|CWE|95419-8^Has symptoms^LN||Y||||||F', SPM]),
    'MSH|^~|broken',
    message(),
  ].join('\r')
  const out = parseHl7v2(input)
  t.equal(out.items.length, 2)
  t.strictSame(out.items.map((i) => i.source), ['message 1 OBX 1', 'message 8 OBX 1'])
  t.strictSame(
    out.errors.map((e) => [e.index, e.code, e.field]),
    [
      [1, 'DATA_TYPE', 'OBR-22'],
      [2, 'UNSUPPORTED_CODE', 'PID-8'],
      [3, 'UNSUPPORTED_MESSAGE', 'MSH-9'],
      [4, 'UNSUPPORTED_CODE', 'OBX-11'],
      [5, 'NO_RESULT', 'OBX-3'],
      [6, 'SYNTAX', 'MSH'],
    ],
  )
  t.equal(out.ack.messages.length, 8)
})

t.test('no MSH at all', async (t) => {
  const out = parseHl7v2('hello')
  t.strictSame(out.errors.map((e) => [e.code, e.field]), [['SYNTAX', 'MSH']])
})
