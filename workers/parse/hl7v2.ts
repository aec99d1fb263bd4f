/**
 * HL7 v2.5.1 ORU^R01 (unsolicited observation result, HL7 v2.5.1 chapter 7, 7.3.1) → items of the lab
 * JSON contract (DESIGN.md). Pure: no I/O, no validation of business rules (workers/validate does that).
 *
 * Field map (HL7 v2.5.1 chapters 3, 4, 7; CDC/APHL ELR 2.5.1 implementation guide usage):
 *   accession   OBR-3.1 filler order number (EI.1), else ORC-3.1
 *   orderId     ORC-2.1 placer order number, else OBR-2.1
 *   loinc       OBX-3 (CWE.1 when CWE.3 = LN, or the alternate CWE.4 when CWE.6 = LN)
 *   result      OBX-5 CWE/CE: the SNOMED CT code (CWE.1 with CWE.3 = SCT, or CWE.4 with CWE.6 = SCT)
 *   value/unit  OBX-5 NM (or SN without comparator) with OBX-6.1 (UCUM); result then from OBX-8
 *               (table 0078: POS/DET → detected, NEG/ND → not detected, IND → inconclusive)
 *   status      OBX-11 (table 0085): F final, C corrected, X/D/W cancelled; else OBR-25 (table 0123)
 *   sampledAt   SPM-17.1 specimen collection date/time, else OBR-7, else OBX-14
 *   resultedAt  OBR-22 results report/status change date/time, else OBX-19 date/time of analysis
 *   specimen    SPM-4.1 specimen type (SNOMED CT)
 *   device      OBX-18.1 equipment instance identifier
 *   patient     PID-3 (INS: the CX whose assigning authority CX-4.2 is 1.2.250.1.213.1.4.8 INS-NIR or
 *               .9 INS-NIA), PID-5 (XPN, legal name type L preferred), PID-7, PID-8 (table 0001),
 *               PID-11 (XAD), PID-13 (XTN: phone and e-mail XTN-4)
 *   prescriber  ORC-12 ordering provider (XCN), else OBR-16
 *
 * One item per SARS-CoV-2 result OBX (see loinc-selection.ts); ask-at-order-entry OBX are skipped.
 * Errors: a problem in MSH/PID/ORC/OBR/SPM rejects the whole message (one unit), a problem in a result
 * OBX rejects that OBX only. Values that are simply missing are left out of the item and reported by the
 * validator; the parser reports what it cannot read or map.
 */
import { toAlpha2 } from './country.ts'
import { hl7DateTimeToIso, hl7DateToIso } from './hl7-datetime.ts'
import { comp, parseMessage, Seg, splitMessages } from './hl7-segments.ts'
import type { HL7Node } from 'node-hl7-client'
import { classifyLoinc, LOINC_PATTERN } from './loinc-selection.ts'
import { phoneFromParts, phoneFromText } from './phone.ts'
import { compact, ParseErrorCode as C } from './types.ts'
import type { ParsedItem, ParseError, ParseOutput } from './types.ts'
import { QUALITATIVE_INTERPRETATION } from './interpretation.ts'

export { buildAck, hl7LocationOf } from './hl7-ack.ts'
export type { AckOutcome, AckOptions } from './hl7-ack.ts'

export interface Hl7ParseOptions {
  /** Time zone for HL7 date/times sent without an offset (HL7 2.A.74: the sender's local zone). */
  defaultTimeZone?: string
}

/** MSH fields an ACK needs (HL7 v2.5.1 2.15.9 MSH). Hierarchic designators are kept as components. */
export interface Hl7Header {
  fieldSeparator: string
  encodingCharacters: string
  sendingApplication: string[]
  sendingFacility: string[]
  receivingApplication: string[]
  receivingFacility: string[]
  dateTime: string
  messageType: string[]
  controlId: string
  processingId: string
  version: string
}

/** Per message: its header and which units (indices) came from it. */
export interface Hl7MessageOutcome {
  /** 1-based position in the input. */
  message: number
  /** null when MSH could not be read; an ACK then uses defaults. */
  header: Hl7Header | null
  itemIndexes: number[]
  errorIndexes: number[]
}

export interface Hl7AckContext {
  messages: Hl7MessageOutcome[]
}

export type Hl7ParseOutput = ParseOutput & { ack: Hl7AckContext; warnings: ParseError[] }

const INS_OIDS = new Set(['1.2.250.1.213.1.4.8', '1.2.250.1.213.1.4.9'])
const LOINC_SYSTEMS = new Set(['LN', 'LOINC', 'HTTP://LOINC.ORG'])
const SNOMED_SYSTEMS = new Set(['SCT', 'SNM', 'SNOMED', 'SNOMED-CT', 'HTTP://SNOMED.INFO/SCT'])

// HL7 table 0001 administrative sex → contract sex. A (ambiguous), N (not applicable) and O (other) are
// valid HL7 but the contract has only F, M, U: they are reported, not turned into U, because sex is part
// of the identity used to link a patient's results and must not be changed silently.
const SEX: Record<string, 'F' | 'M' | 'U'> = { F: 'F', M: 'M', U: 'U' }
const SEX_NAMES: Record<string, string> = { A: 'Ambiguous', N: 'Not applicable', O: 'Other' }

// HL7 table 0085 observation result status → contract status.
const OBX_STATUS: Record<string, 'final' | 'corrected' | 'cancelled'> = {
  F: 'final',
  C: 'corrected',
  X: 'cancelled', // results cannot be obtained for this observation
  D: 'cancelled', // deletes the OBX record
  W: 'cancelled', // post original as wrong
}
// HL7 table 0123 result status (OBR-25), used only when OBX-11 is empty.
const OBR_STATUS: Record<string, 'final' | 'corrected' | 'cancelled'> = { F: 'final', C: 'corrected', X: 'cancelled' }


interface Ctx {
  next: number
  items: ParsedItem[]
  errors: ParseError[]
  warnings: ParseError[]
  tz: string
}

/** Parse one or many ORU^R01 messages (optionally in FHS/BHS batches). Never throws on bad input. */
export function parseHl7v2(input: string | Uint8Array, options: Hl7ParseOptions = {}): Hl7ParseOutput {
  const text = typeof input === 'string' ? input : decode(input)
  const ctx: Ctx = { next: 0, items: [], errors: [], warnings: [], tz: options.defaultTimeZone ?? 'Europe/Paris' }
  const ack: Hl7AckContext = { messages: [] }
  const split = splitMessages(text)

  if (split.messages.length === 0) {
    ctx.errors.push({ index: ctx.next++, code: C.SYNTAX, field: 'MSH', message: 'no MSH segment: the input is not an HL7 v2 message' })
    return { items: ctx.items, errors: ctx.errors, warnings: ctx.warnings, ack }
  }
  for (const s of split.stray) {
    ctx.warnings.push({
      index: -1,
      code: C.SKIPPED,
      field: s.id,
      message: `segment ${s.id} on line ${s.line} is outside any message (before the first MSH or after a batch trailer) and was ignored`,
    })
  }
  // HL7 v2.5.1 2.15.2 BTS-1: batch message count. A mismatch says messages were lost or added on the way.
  if (split.batchCounts.length === 1 && split.batches === 1 && split.batchCounts[0] !== split.messages.length) {
    ctx.warnings.push({
      index: -1,
      code: C.COUNT_MISMATCH,
      field: 'BTS-1',
      message: `BTS-1 announces ${split.batchCounts[0]} messages but the batch holds ${split.messages.length}`,
    })
  }

  for (const raw of split.messages) {
    const outcome: Hl7MessageOutcome = { message: raw.number, header: null, itemIndexes: [], errorIndexes: [] }
    ack.messages.push(outcome)
    parseOne(raw.number, raw.lines, ctx, outcome)
  }
  return { items: ctx.items, errors: ctx.errors, warnings: ctx.warnings, ack }
}

/** MSH-18 character set decides the byte decoding; UTF-8 unless ISO 8859/1 is declared. */
function decode(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1')
  const msh = /MSH(.)/.exec(head)
  if (msh) {
    const fields = head.slice(msh.index).split(/\r|\n/)[0]!.split(msh[1]!)
    if ((fields[17] ?? '').trim() === '8859/1') return Buffer.from(bytes).toString('latin1')
  }
  return Buffer.from(bytes).toString('utf8')
}

function readHeader(msh: Seg, fieldSeparator: string, encodingCharacters: string): Hl7Header {
  const hd = (f: number) => [msh.get(f, 1), msh.get(f, 2), msh.get(f, 3)]
  return {
    fieldSeparator,
    encodingCharacters,
    sendingApplication: hd(3),
    sendingFacility: hd(4),
    receivingApplication: hd(5),
    receivingFacility: hd(6),
    dateTime: msh.get(7),
    messageType: [msh.get(9, 1), msh.get(9, 2), msh.get(9, 3)],
    controlId: msh.get(10),
    processingId: msh.get(11),
    version: msh.get(12),
  }
}

interface OrderGroup {
  orc?: Seg
  obr: Seg
  obx: Seg[]
  spm: Seg[]
  pid?: Seg
}

function parseOne(number: number, lines: string[], ctx: Ctx, outcome: Hl7MessageOutcome): void {
  const msgErrors: Array<Omit<ParseError, 'index'>> = []
  const reject = () => {
    const index = ctx.next++
    for (const e of msgErrors) ctx.errors.push({ index, ...e })
    outcome.errorIndexes.push(index)
  }

  let parsed
  try {
    parsed = parseMessage({ number, lines })
  } catch (err) {
    msgErrors.push({ code: C.SYNTAX, field: 'MSH', message: `message ${number} cannot be read as HL7: ${(err as Error).message}` })
    return reject()
  }
  const segs = parsed.segments
  const msh = segs[0]!
  const header = readHeader(msh, parsed.fieldSeparator, parsed.encodingCharacters)
  outcome.header = header

  // HL7 v2.5.1 2.15.9.9 MSH-9 message type; only ORU^R01 carries lab results here.
  if (header.messageType[0] !== 'ORU' || header.messageType[1] !== 'R01') {
    msgErrors.push({
      code: C.UNSUPPORTED_MESSAGE,
      field: 'MSH-9',
      message: `message type '${header.messageType.filter(Boolean).join('^')}' is not supported: send ORU^R01`,
    })
    return reject()
  }
  // SPM and the ELR field usage exist from v2.5 on.
  if (!/^2\.([5-9])(\.|$)/.test(header.version)) {
    msgErrors.push({
      code: C.UNSUPPORTED_VERSION,
      field: 'MSH-12',
      message: `HL7 version '${header.version}' is not supported: send 2.5.1`,
    })
    return reject()
  }

  // Group segments as the ORU_R01 structure does (7.3.1): PATIENT_RESULT { PID ... ORDER_OBSERVATION
  // { [ORC] OBR ... { OBX [NTE] } { SPM [OBX] } } }.
  const groups: OrderGroup[] = []
  let pid: Seg | undefined
  let pendingOrc: Seg | undefined
  let group: OrderGroup | undefined
  let pidCount = 0
  for (const s of segs.slice(1)) {
    switch (s.id) {
      case 'PID':
        pid = s
        pidCount++
        group = undefined
        break
      case 'ORC':
        pendingOrc = s
        break
      case 'OBR':
        group = { orc: pendingOrc, obr: s, obx: [], spm: [], pid }
        pendingOrc = undefined
        groups.push(group)
        break
      case 'OBX':
        if (!group) {
          msgErrors.push({ code: C.STRUCTURE, field: s.loc(1), message: `${s.id} before any OBR: every OBX belongs to an order (OBR)` })
        } else if (group.spm.length === 0) group.obx.push(s)
        // OBX after SPM belong to the SPECIMEN group: specimen observations, not results.
        break
      case 'SPM':
        if (group) group.spm.push(s)
        else msgErrors.push({ code: C.STRUCTURE, field: s.loc(1), message: 'SPM before any OBR' })
        break
      default:
        break // SFT, PD1, NK1, PV1, PV2, TQ1, CTD, NTE, FT1, CTI...: nothing the contract needs
    }
  }
  if (pidCount === 0) msgErrors.push({ code: C.STRUCTURE, field: 'PID', message: 'no PID segment: ORU^R01 needs the patient' })
  if (groups.length === 0) msgErrors.push({ code: C.STRUCTURE, field: 'OBR', message: 'no OBR segment: ORU^R01 needs an order with observations' })
  if (msgErrors.length) return reject()

  // Patients first (one per PATIENT_RESULT group), then each order's shared fields.
  const patients = new Map<Seg, Record<string, unknown>>()
  // MSH-17 country code (table 0399): the sender's country, HL7 v2.5.1 2.15.9.17 "used primarily to
  // specify default elements"; it is the country of an address sent without XAD-6.
  const senderCountry = toAlpha2(msh.get(17))
  for (const g of groups) {
    if (g.pid && !patients.has(g.pid)) patients.set(g.pid, readPatient(g.pid, senderCountry, msgErrors, ctx, outcome))
    if (!g.pid) msgErrors.push({ code: C.STRUCTURE, field: g.obr.loc(1), message: 'OBR before any PID' })
  }

  type Candidate = { g: OrderGroup; obx: Seg; loinc: string }
  const candidates: Candidate[] = []
  const orders = new Map<OrderGroup, Record<string, unknown>>()
  for (const g of groups) {
    orders.set(g, readOrder(g, msgErrors, ctx, outcome))
    for (const obx of g.obx) {
      const loinc = readLoinc(obx)
      const kind = loinc ? classifyLoinc(loinc.code) : 'other'
      if (kind === 'result' && loinc) {
        if (!loinc.declared) {
          warn(ctx, outcome, obx.loc(3, 3), `OBX-3 coding system '${obx.get(3, 3)}' is not LN; '${loinc.code}' read as a LOINC code`)
        }
        candidates.push({ g, obx, loinc: loinc.code })
      } else if (kind === 'other' && obx.get(29) !== 'QST') {
        warn(
          ctx,
          outcome,
          obx.loc(3),
          `OBX ${obx.seq} (${loinc ? `LOINC ${loinc.code}` : `'${obx.get(3)}'`}) is not a SARS-CoV-2 test result and was skipped`,
          C.SKIPPED,
        )
      }
    }
  }
  if (candidates.length === 0 && msgErrors.length === 0) {
    msgErrors.push({
      code: C.NO_RESULT,
      field: 'OBX-3',
      message: 'no OBX carries a SARS-CoV-2 test LOINC code (OBX-3): nothing to record',
    })
  }
  if (msgErrors.length) return reject()

  for (const { g, obx, loinc } of candidates) {
    const obxErrors: Array<Omit<ParseError, 'index'>> = []
    const order = orders.get(g)!
    const obs = readObservation(obx, g, order, obxErrors, ctx, outcome)
    const index = ctx.next++
    if (obxErrors.length) {
      for (const e of obxErrors) ctx.errors.push({ index, ...e })
      outcome.errorIndexes.push(index)
      continue
    }
    const item = compact({
      accession: order.accession,
      loinc,
      ...obs,
      sampledAt: order.sampledAt ?? obs.sampledAt,
      resultedAt: order.resultedAt ?? obs.resultedAt,
      specimen: order.specimen,
      device: obs.device,
      orderId: order.orderId,
      patient: patients.get(g.pid!),
      prescriber: order.prescriber,
    })
    // Keep the contract's field order (accession, loinc, result, value, unit, status, dates...).
    ctx.items.push({ index, item: orderKeys(item), source: `message ${number} OBX ${obx.seq}` })
    outcome.itemIndexes.push(index)
  }
}

const KEY_ORDER = ['accession', 'loinc', 'result', 'value', 'unit', 'status', 'sampledAt', 'resultedAt', 'specimen', 'device', 'orderId', 'patient', 'prescriber']
function orderKeys(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of KEY_ORDER) if (k in item) out[k] = item[k]
  return out
}

function warn(ctx: Ctx, outcome: Hl7MessageOutcome, field: string, message: string, code: string = C.OMITTED): void {
  ctx.warnings.push({ index: -1, code, field, message: `message ${outcome.message}: ${message}` })
}

function readDateTime(seg: Seg, field: number, errors: Array<Omit<ParseError, 'index'>>, ctx: Ctx, outcome: Hl7MessageOutcome, component = 1): string | undefined {
  const v = seg.get(field, component)
  if (!v) return undefined
  const r = hl7DateTimeToIso(v, ctx.tz)
  const loc = component > 1 || seg.id === 'SPM' ? seg.loc(field, component) : seg.loc(field)
  if (!r.ok) {
    errors.push({ code: C.DATA_TYPE, field: loc, message: `${loc}: ${r.reason}` })
    return undefined
  }
  if (r.assumedZone) warn(ctx, outcome, loc, `${loc} '${v}' has no UTC offset; read as ${r.assumedZone} local time`)
  return r.value
}

function readPatient(pid: Seg, senderCountry: string | null, errors: Array<Omit<ParseError, 'index'>>, ctx: Ctx, outcome: Hl7MessageOutcome): Record<string, unknown> {
  // PID-3 patient identifier list (CX): the INS is the identifier assigned by the INS authority.
  let ins: string | undefined
  for (const rep of pid.reps(3)) {
    if (INS_OIDS.has(comp(rep, 4, 2))) {
      ins = comp(rep, 1)
      break
    }
  }

  // PID-5 patient name (XPN): legal name (XPN-7 = L; in France the birth name) preferred.
  const names = pid.reps(5)
  const name = names.find((r) => comp(r, 7) === 'L') ?? names[0]
  let family: string | undefined
  let given: string[] = []
  if (name) {
    family = comp(name, 1, 1) || undefined
    given = [comp(name, 2), ...comp(name, 3).split(/\s+/)].filter(Boolean)
  }

  let birthDate: string | undefined
  const dob = pid.get(7)
  if (dob) {
    const r = hl7DateToIso(dob)
    if (r.ok) birthDate = r.value
    else errors.push({ code: C.DATA_TYPE, field: pid.loc(7), message: `PID-7 date of birth: ${r.reason}` })
  }

  let sex: string | undefined
  const sexCode = pid.get(8).toUpperCase()
  if (sexCode) {
    sex = SEX[sexCode]
    if (!sex) {
      errors.push({
        code: C.UNSUPPORTED_CODE,
        field: pid.loc(8),
        message: SEX_NAMES[sexCode]
          ? `PID-8 administrative sex '${sexCode}' (HL7 table 0001: ${SEX_NAMES[sexCode]}) has no equivalent in sidep: send F, M or U`
          : `PID-8 administrative sex '${sexCode}' is not in HL7 table 0001: send F, M or U`,
      })
    }
  }

  // PID-11 patient address (XAD): 1 street, 2 other designation, 3 city, 5 zip, 6 country (table 0399).
  let address: Record<string, unknown> | undefined
  let country: string | null = null
  const addresses = pid.reps(11)
  const adr = addresses.find((r) => ['H', 'L', 'C'].includes(comp(r, 7))) ?? addresses[0]
  if (adr) {
    const rawCountry = comp(adr, 6)
    country = rawCountry ? toAlpha2(rawCountry) : senderCountry
    const parts = { line: [comp(adr, 1, 1), comp(adr, 2)].filter(Boolean).join(', '), postcode: comp(adr, 5), city: comp(adr, 3) }
    if (rawCountry && !country) {
      // Without a trustworthy country the address cannot be placed (and an address without country
      // means France in the contract): leave it out rather than misplace the patient.
      warn(ctx, outcome, pid.loc(11, 6), `PID-11.6 country '${rawCountry}' is not an ISO 3166 code; the address was left out`)
    } else {
      address = compact({ ...parts, country: country ?? undefined })
    }
  }

  // PID-13 home phone (XTN, repeating): XTN-4 e-mail, XTN-5/6/7 country/area/local number, XTN-1 text.
  let phone: string | undefined
  let email: string | undefined
  const telecoms = pid.reps(13)
  const phones: HL7Node[] = []
  for (const rep of telecoms) {
    const mail = comp(rep, 4)
    if (mail && !email) email = mail
    const equipment = comp(rep, 3)
    if (equipment === 'Internet' || equipment === 'X.400' || comp(rep, 2) === 'NET') continue
    if (comp(rep, 7) || comp(rep, 1) || comp(rep, 12)) phones.push(rep)
  }
  // Mobile first (XTN-3 = CP, table 0202): the number is for result notifications.
  phones.sort((a, b) => Number(comp(b, 3) === 'CP') - Number(comp(a, 3) === 'CP'))
  const tel = phones[0]
  if (tel) {
    const r = comp(tel, 7) && comp(tel, 5)
      ? phoneFromParts(comp(tel, 5), comp(tel, 6), comp(tel, 7))
      : phoneFromText(comp(tel, 12) || comp(tel, 1) || comp(tel, 6) + comp(tel, 7), country)
    if (r.ok) phone = r.e164
    else warn(ctx, outcome, pid.loc(13), `PID-13 phone left out: ${r.reason}`)
  }

  return compact({ ins, family, given, birthDate, sex, address, phone, email })
}

function readOrder(g: OrderGroup, errors: Array<Omit<ParseError, 'index'>>, ctx: Ctx, outcome: Hl7MessageOutcome): Record<string, unknown> {
  const { orc, obr } = g
  const accession = obr.get(3) || orc?.get(3) || undefined
  const orderId = orc?.get(2) || obr.get(2) || undefined
  const spm = g.spm[0]
  const sampledAt = spm?.get(17) ? readDateTime(spm, 17, errors, ctx, outcome) : readDateTime(obr, 7, errors, ctx, outcome)
  const resultedAt = readDateTime(obr, 22, errors, ctx, outcome)
  let specimen: string | undefined
  if (spm) specimen = coded(spm, 4, SNOMED_SYSTEMS)
  const prescriber = readPrescriber(orc?.reps(12)[0] ? orc : obr, orc?.reps(12)[0] ? 12 : 16, ctx, outcome)
  return { accession, orderId, sampledAt, resultedAt, specimen, prescriber }
}

/** ORC-12 / OBR-16 ordering provider (XCN): 1 id, 2 family, 3 given, 9 assigning authority, 13 type. */
function readPrescriber(seg: Seg | undefined, field: number, ctx: Ctx, outcome: Hl7MessageOutcome): Record<string, unknown> | undefined {
  const rep = seg?.reps(field)[0]
  if (!seg || !rep) return undefined
  let id = comp(rep, 1)
  const family = comp(rep, 2, 1)
  const given = comp(rep, 3)
  if (!id) {
    if (family || given) warn(ctx, outcome, seg.loc(field, 1), `${seg.loc(field)} ordering provider has no identifier (XCN-1); prescriber left out`)
    return undefined
  }
  const type = comp(rep, 13).toUpperCase()
  const authority = comp(rep, 9, 2)
  let idType: string | undefined
  if (type === 'RPPS' || type === 'ADELI' || type === 'NPI') idType = type
  else if (authority === '2.16.840.1.113883.4.6') idType = 'NPI'
  else if (authority === '1.2.250.1.71.4.2.1' && /^[80]\d+$/.test(id)) {
    // ANS "identifiant national de PS": prefix 8 + RPPS number, or prefix 0 + ADELI number.
    idType = id.startsWith('8') ? 'RPPS' : 'ADELI'
    id = id.slice(1)
  } else if (type || authority) {
    warn(ctx, outcome, seg.loc(field, 13), `${seg.loc(field)} identifier type '${type || authority}' is not RPPS, ADELI or NPI; idType left out`)
  }
  return compact({ id, idType, family, given })
}

/** A coded value (CWE/CE): identifier in the wanted coding system, else the alternate, else CWE.1. */
function coded(seg: Seg, field: number, systems: Set<string>): string | undefined {
  const c1 = seg.get(field, 1), s1 = seg.get(field, 3).toUpperCase()
  const c4 = seg.get(field, 4), s4 = seg.get(field, 6).toUpperCase()
  if (c1 && systems.has(s1)) return c1
  if (c4 && systems.has(s4)) return c4
  return c1 || undefined
}

function readLoinc(obx: Seg): { code: string; declared: boolean } | undefined {
  const c1 = obx.get(3, 1), s1 = obx.get(3, 3).toUpperCase()
  const c4 = obx.get(3, 4), s4 = obx.get(3, 6).toUpperCase()
  if (c1 && LOINC_SYSTEMS.has(s1)) return { code: c1, declared: true }
  if (c4 && LOINC_SYSTEMS.has(s4)) return { code: c4, declared: true }
  if (LOINC_PATTERN.test(c1)) return { code: c1, declared: false }
  return undefined
}

function readObservation(
  obx: Seg,
  g: OrderGroup,
  order: Record<string, unknown>,
  errors: Array<Omit<ParseError, 'index'>>,
  ctx: Ctx,
  outcome: Hl7MessageOutcome,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  // OBX-11 observation result status (table 0085), else OBR-25 result status (table 0123).
  const st = obx.get(11).toUpperCase()
  if (st) {
    out.status = OBX_STATUS[st]
    if (!out.status) {
      errors.push({
        code: C.UNSUPPORTED_CODE,
        field: obx.loc(11),
        message: `OBX-11 result status '${st}' (table 0085) is not final (F), corrected (C) or cancelled (X, D, W): only final results are recorded`,
      })
    }
  } else {
    const os = g.obr.get(25).toUpperCase()
    if (os) {
      out.status = OBR_STATUS[os]
      if (!out.status) {
        errors.push({ code: C.UNSUPPORTED_CODE, field: g.obr.loc(25), message: `OBR-25 result status '${os}' (table 0123) is not F, C or X` })
      }
    }
  }

  // OBX-2 value type (table 0125) decides how OBX-5 reads.
  const type = obx.get(2).toUpperCase()
  const value = obx.get(5)
  if (type === 'CWE' || type === 'CE' || type === 'CNE' || (!type && value)) {
    out.result = coded(obx, 5, SNOMED_SYSTEMS)
  } else if (type === 'NM' || type === 'SN') {
    let num: string | undefined
    if (type === 'NM') num = value
    else {
      // SN: comparator ^ num1 ^ separator ^ num2; only a plain number fits the contract's value.
      const comparator = obx.get(5, 1)
      const second = obx.get(5, 3)
      if ((comparator === '' || comparator === '=') && !second) num = obx.get(5, 2)
      else warn(ctx, outcome, obx.loc(5), `OBX-5 structured numeric '${obx.raw(5)}' (comparator or range) cannot be carried as a value; value left out`)
    }
    if (num !== undefined && num !== '') {
      const n = Number(num)
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(num) || !Number.isFinite(n)) {
        errors.push({ code: C.DATA_TYPE, field: obx.loc(5), message: `OBX-5 '${num}' is not a number (OBX-2 = ${type})` })
      } else {
        out.value = n
        out.unit = obx.get(6, 1) || undefined
      }
    }
    const flag = obx.reps(8).map((r) => comp(r, 1).toUpperCase()).find((f) => QUALITATIVE_INTERPRETATION[f])
    if (flag) out.result = QUALITATIVE_INTERPRETATION[flag]
  } else if (value) {
    errors.push({
      code: C.UNSUPPORTED_CODE,
      field: obx.loc(2),
      message: `OBX-2 value type '${type}' is not supported for a result: send CWE with a SNOMED CT code (or NM with a unit for serology)`,
    })
  }

  // OBX-14 date/time of the observation (ELR: collection), OBX-19 date/time of the analysis: read only
  // when the order-level SPM-17 / OBR-7 / OBR-22 are absent.
  if (order.sampledAt === undefined) out.sampledAt = readDateTime(obx, 14, errors, ctx, outcome)
  if (order.resultedAt === undefined) out.resultedAt = readDateTime(obx, 19, errors, ctx, outcome)
  out.device = obx.get(18) || undefined
  return out
}
