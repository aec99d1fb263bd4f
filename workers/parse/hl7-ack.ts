/**
 * HL7 v2.5.1 acknowledgment (ACK, original acknowledgment mode, HL7 v2.5.1 2.9.2) for one received
 * message: what the MLLP listener answers and what POST /v1/results returns with Accept: application/hl7-v2.
 *
 *   MSH  sender and receiver swapped from the original (MSH-3/4 ↔ MSH-5/6), MSH-9 ACK^<trigger>^ACK,
 *        same MSH-11 processing id and MSH-12 version, same encoding characters.
 *   MSA  MSA-1 acknowledgment code (table 0008): AA accepted, AE error (some or all items refused, the
 *        message may be corrected and resent), AR reject (the message itself is not processable: type,
 *        version, unreadable); MSA-2 the original MSH-10 message control id.
 *   ERR  one per problem: ERR-2 error location (ERL: segment id ^ sequence ^ field ^ field repetition ^
 *        component ^ sub-component), ERR-3 HL7 error code (CWE, table 0357), ERR-4 severity (table 0516:
 *        E error, W warning, I information), ERR-5 application error code (sidep's stable code),
 *        ERR-8 user message.
 * The message is built with node-hl7-client, which also escapes the texts (2.7 escape sequences).
 */
import { Message } from 'node-hl7-client'
import { HL7_2_5_1 } from 'node-hl7-client/hl7'
import type { Hl7Header } from './hl7v2.ts'

export interface AckProblem {
  code: string
  /** HL7 location ('PID-7', 'OBX(2)-5', 'PID-11.6') or a contract path to be mapped with hl7LocationOf. */
  field: string
  message: string
  /** Table 0516; E unless told. */
  severity?: 'E' | 'W' | 'I'
}

export interface AckOutcome {
  /** Forced MSA-1; otherwise AR when a problem makes the whole message unprocessable, AE when any error, else AA. */
  code?: 'AA' | 'AE' | 'AR'
  errors?: AckProblem[]
}

export interface AckOptions {
  /** MSH-3 / MSH-4 of the ACK (sidep's application and facility). */
  sendingApplication?: string
  sendingFacility?: string
  /** MSH-10 of the ACK; a random id when absent. */
  controlId?: string
  /** MSH-7 of the ACK; now when absent. */
  now?: Date
}

/** sidep error codes → HL7 table 0357 message error condition codes. */
const TABLE_0357: Record<string, [string, string]> = {
  SYNTAX: ['100', 'Segment sequence error'],
  STRUCTURE: ['100', 'Segment sequence error'],
  REQUIRED_MISSING: ['101', 'Required field missing'],
  REQUIRED: ['101', 'Required field missing'],
  NO_RESULT: ['101', 'Required field missing'],
  DATA_TYPE: ['102', 'Data type error'],
  UNSUPPORTED_CODE: ['103', 'Table value not found'],
  UNSUPPORTED_MESSAGE: ['200', 'Unsupported message type'],
  UNSUPPORTED_EVENT: ['201', 'Unsupported event code'],
  UNSUPPORTED_PROCESSING_ID: ['202', 'Unsupported processing id'],
  UNSUPPORTED_VERSION: ['203', 'Unsupported version id'],
  DUPLICATE: ['205', 'Duplicate key identifier'],
  INTERNAL: ['207', 'Application internal error'],
}
const REJECTING = new Set(['SYNTAX', 'UNSUPPORTED_MESSAGE', 'UNSUPPORTED_EVENT', 'UNSUPPORTED_PROCESSING_ID', 'UNSUPPORTED_VERSION'])

/** Table 0357 code and text for a sidep code (validator codes included: unknown codes → 102/103/101). */
export function table0357(code: string): [string, string] {
  const known = TABLE_0357[code]
  if (known) return known
  if (/MISSING|REQUIRED/.test(code)) return TABLE_0357.REQUIRED!
  if (/^UNKNOWN_|_CODE$|NOT_ALLOWED|UNSUPPORTED/.test(code)) return TABLE_0357.UNSUPPORTED_CODE!
  if (/DUPLICATE/.test(code)) return TABLE_0357.DUPLICATE!
  return TABLE_0357.DATA_TYPE!
}

/** 'OBX(2)-5.1' → ERR-2 components [segment id, sequence, field, repetition, component, sub-component]. */
export function parseLocation(field: string): string[] | null {
  const m = /^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?(?:-(\d+)(?:\.(\d+)(?:\.(\d+))?)?)?$/.exec(field)
  if (!m) return null
  const [, seg, seq, fld, c, s] = m
  return [seg!, seq ?? '1', fld ?? '', fld ? '1' : '', c ?? '', s ?? '']
}

// Contract path → where it comes from in ORU^R01 (hl7v2.ts field map), for validator errors.
const CONTRACT_TO_HL7: Array<[RegExp, string]> = [
  [/^accession$/, 'OBR-3'],
  [/^orderId$/, 'ORC-2'],
  [/^loinc$/, 'OBX-3'],
  [/^result$/, 'OBX-5'],
  [/^value$/, 'OBX-5'],
  [/^unit$/, 'OBX-6'],
  [/^status$/, 'OBX-11'],
  [/^sampledAt$/, 'SPM-17'],
  [/^resultedAt$/, 'OBR-22'],
  [/^specimen$/, 'SPM-4'],
  [/^device$/, 'OBX-18'],
  [/^patient\.ins$/, 'PID-3'],
  [/^patient\.family$/, 'PID-5.1'],
  [/^patient\.given/, 'PID-5.2'],
  [/^patient\.birthDate$/, 'PID-7'],
  [/^patient\.sex$/, 'PID-8'],
  [/^patient\.address\.line$/, 'PID-11.1'],
  [/^patient\.address\.city$/, 'PID-11.3'],
  [/^patient\.address\.postcode$/, 'PID-11.5'],
  [/^patient\.address\.country$/, 'PID-11.6'],
  [/^patient\.address/, 'PID-11'],
  [/^patient\.phone$/, 'PID-13'],
  [/^patient\.email$/, 'PID-13.4'],
  [/^prescriber/, 'ORC-12'],
  [/^patient/, 'PID'],
]

/**
 * The HL7 location of a contract field of an item parsed from HL7, e.g. ('result', 'message 3 OBX 2')
 * → 'OBX(2)-5'. HL7 locations are returned unchanged; unknown paths give ''.
 */
export function hl7LocationOf(path: string, source = ''): string {
  if (parseLocation(path)) return path
  const hit = CONTRACT_TO_HL7.find(([re]) => re.test(path))
  if (!hit) return ''
  const loc = hit[1]
  const obx = /OBX (\d+)/.exec(source)
  if (loc.startsWith('OBX') && obx && obx[1] !== '1') return loc.replace('OBX', `OBX(${obx[1]})`)
  return loc
}

function hl7Now(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`
}

/** Build the ACK for one message. `header` null (MSH unreadable) gives an AR with default encoding. */
export function buildAck(header: Hl7Header | null, outcome: AckOutcome, options: AckOptions = {}): string {
  const errors = outcome.errors ?? []
  const hard = errors.filter((e) => (e.severity ?? 'E') === 'E')
  const code =
    outcome.code ??
    (header === null || hard.some((e) => REJECTING.has(e.code)) ? 'AR' : hard.length > 0 ? 'AE' : 'AA')
  const enc = header?.encodingCharacters ?? '^~\\&'
  const msg = new Message({
    specification: new HL7_2_5_1(),
    separatorField: header?.fieldSeparator ?? '|',
    separatorComponent: enc[0],
    separatorRepetition: enc[1],
    separatorEscape: enc[2],
    separatorSubComponent: enc[3],
    messageHeader: {
      msh_9_1: 'ACK',
      msh_9_2: header?.messageType[1] || 'R01',
      msh_9_3: 'ACK',
      msh_10: options.controlId ?? cryptoId(),
      msh_11_1: (header?.processingId || 'P') as 'P',
    },
  } as ConstructorParameters<typeof Message>[0])
  msg.set('MSH.3.1', options.sendingApplication ?? 'SIDEP')
  if (options.sendingFacility) msg.set('MSH.4.1', options.sendingFacility)
  const hd = (path: string, v: string[] | undefined) => {
    v?.forEach((c, i) => {
      if (c) msg.set(`${path}.${i + 1}`, c)
    })
  }
  hd('MSH.5', header?.sendingApplication)
  hd('MSH.6', header?.sendingFacility)
  msg.set('MSH.7', hl7Now(options.now ?? new Date()))
  msg.set('MSH.12', header?.version && /^2\./.test(header.version) ? header.version : '2.5.1')
  msg.set('MSA.1', code)
  msg.set('MSA.2', header?.controlId ?? '')
  for (const e of errors) {
    const err = msg.addSegment('ERR')
    const loc = parseLocation(e.field)
    if (loc) loc.forEach((v, i) => v && err.set(`2.${i + 1}`, v))
    const [hl7Code, hl7Text] = table0357(e.code)
    err.set('3.1', hl7Code)
    err.set('3.2', hl7Text)
    err.set('3.3', 'HL70357')
    err.set('4', e.severity ?? 'E')
    err.set('5.1', e.code)
    err.set('5.3', '99SIDEP')
    err.set('8', e.message)
  }
  return msg.toString()
}

function cryptoId(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '').slice(0, 20)
}
