/**
 * Splitting an HL7 v2 input into messages, and reading fields of the segments that node-hl7-client
 * parsed.
 *
 * node-hl7-client (npm, MIT) does the HL7 syntax: encoding characters from MSH-1/MSH-2, field /
 * component / repetition / sub-component separators, and the escape sequences of HL7 v2.5.1 chapter 2,
 * section 2.7 (\F\ \S\ \T\ \R\ \E\ and \Xdd..\ hexadecimal data). What it does not do, and this file
 * does by hand: cutting a file with several messages and FHS/BHS/BTS/FTS batch envelopes (HL7 v2.5.1
 * 2.10.3) into messages so that one malformed message does not take the others down, and reading a
 * field that is absent without throwing.
 */
import { Message } from 'node-hl7-client'
import type { HL7Node } from 'node-hl7-client'

/** One message cut out of the input, with its segments as text. */
export interface RawMessage {
  /** 1-based position of the message in the input. */
  number: number
  lines: string[]
}

export interface SplitInput {
  messages: RawMessage[]
  /** Segments outside any message that are not batch envelope segments. */
  stray: Array<{ line: number; id: string }>
  /** BTS-1 batch message counts and FTS-1 file batch counts, when present. */
  batchCounts: number[]
  fileBatchCounts: number[]
  batches: number
}

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/

/**
 * Cut the input into messages. Segment terminator: HL7 says CR (2.7); LF and CRLF are accepted too, as
 * files written on other systems use them. MLLP framing bytes (0x0B, 0x1C) are tolerated.
 */
export function splitMessages(input: string): SplitInput {
  const text = input.replace(/^\uFEFF/, '').replace(/[\x0b\x1c]/g, '')
  const lines = text.split(/\r\n|\r|\n/)
  const out: SplitInput = { messages: [], stray: [], batchCounts: [], fileBatchCounts: [], batches: 0 }
  let current: RawMessage | null = null
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+$/, '')
    if (line === '') continue
    const id = line.slice(0, 3)
    if (id === 'MSH') {
      current = { number: out.messages.length + 1, lines: [line] }
      out.messages.push(current)
      continue
    }
    if (id === 'FHS' || id === 'BHS' || id === 'BTS' || id === 'FTS') {
      // Envelope segments end the current message (HL7 v2.5.1 2.10.3: BTS closes a batch).
      current = null
      const sep = line.charAt(3) || '|'
      const count = line.split(sep)[1] ?? ''
      if (id === 'BHS') out.batches++
      if (id === 'BTS' && /^\d+$/.test(count)) out.batchCounts.push(Number(count))
      if (id === 'FTS' && /^\d+$/.test(count)) out.fileBatchCounts.push(Number(count))
      continue
    }
    if (current) current.lines.push(line)
    else out.stray.push({ line: i + 1, id: SEGMENT_ID.test(id) ? id : line.slice(0, 10) })
  }
  return out
}

/** A segment of a parsed message, with its occurrence number among segments of the same type. */
export class Seg {
  constructor(
    readonly id: string,
    private readonly node: HL7Node,
    /** 1-based occurrence of this segment type in the message (ERR-2.2 "segment sequence"). */
    readonly seq: number,
    /** Whether the type occurs more than once (then locations show the occurrence: 'OBX(2)-5'). */
    public repeated = false,
  ) {}

  /** Location string of a field of this segment: 'PID-7', 'OBX(2)-5', 'PID-11.6'. */
  loc(field: number, component?: number): string {
    const seg = this.repeated ? `${this.id}(${this.seq})` : this.id
    return `${seg}-${field}${component ? `.${component}` : ''}`
  }

  /** The repetitions of a field (empty array when the field is absent or empty). */
  reps(field: number): HL7Node[] {
    const f = this.readNode(this.node, field)
    if (!f) return []
    return f.toArray().filter((r) => r.toRaw() !== '')
  }

  /** Unescaped value of component / sub-component of the first repetition ('' when absent). */
  get(field: number, component = 1, sub = 1): string {
    const rep = this.reps(field)[0]
    return rep ? comp(rep, component, sub) : ''
  }

  /** The raw text of a whole field (first repetition), still escaped, for messages. */
  raw(field: number): string {
    const f = this.readNode(this.node, field)
    return f ? f.toRaw() : ''
  }

  private readNode(node: HL7Node, pos: number): HL7Node | undefined {
    try {
      return (node.read([String(pos)]) as HL7Node | undefined) ?? undefined
    } catch {
      return undefined
    }
  }
}

/** Unescaped component `c` (sub-component `s`) of one repetition. */
export function comp(rep: HL7Node, c: number, s = 1): string {
  let cn: HL7Node | undefined
  try {
    cn = rep.read([String(c)]) as HL7Node | undefined
  } catch {
    return ''
  }
  if (!cn) return ''
  if (s === 1) return cn.toString().trim()
  let sn: HL7Node | undefined
  try {
    sn = cn.read([String(s)]) as HL7Node | undefined
  } catch {
    return ''
  }
  return sn ? sn.toString().trim() : ''
}

export interface ParsedMessage {
  segments: Seg[]
  /** MSH-1 field separator and MSH-2 encoding characters, as sent. */
  fieldSeparator: string
  encodingCharacters: string
}

/**
 * Parse one message's segments with node-hl7-client. Throws (with the library's message) when the text
 * cannot be read as HL7; the caller turns that into a ParseError for this message only.
 */
export function parseMessage(raw: RawMessage): ParsedMessage {
  const first = raw.lines[0]!
  const fieldSeparator = first.charAt(3)
  if (!fieldSeparator || /[A-Za-z0-9\s]/.test(fieldSeparator)) {
    throw new Error('MSH-1 (field separator) is missing or is a letter, digit or space')
  }
  const encodingCharacters = first.slice(4).split(fieldSeparator)[0] ?? ''
  // HL7 v2.5.1 2.5.4: MSH-2 gives component, repetition, escape and sub-component characters, in that
  // order; all four are needed to read the message unambiguously.
  if (encodingCharacters.length < 4 || new Set(encodingCharacters + fieldSeparator).size !== encodingCharacters.length + 1) {
    throw new Error(`MSH-2 (encoding characters) '${encodingCharacters}' must be four distinct characters`)
  }
  for (const l of raw.lines) {
    if (!SEGMENT_ID.test(l.slice(0, 3)) || (l.length > 3 && l.charAt(3) !== fieldSeparator)) {
      throw new Error(`'${l.slice(0, 20)}' is not a segment (three-character segment ID then the field separator)`)
    }
  }
  const msg = new Message({
    text: raw.lines.join('\r'),
    newLine: '\r',
    separatorField: fieldSeparator,
    separatorComponent: encodingCharacters[0],
    separatorRepetition: encodingCharacters[1],
    separatorEscape: encodingCharacters[2],
    separatorSubComponent: encodingCharacters[3],
  })
  const counts = new Map<string, number>()
  const segments: Seg[] = []
  for (const node of msg.toArray()) {
    const id = node.name
    const seq = (counts.get(id) ?? 0) + 1
    counts.set(id, seq)
    segments.push(new Seg(id, node, seq))
  }
  for (const s of segments) s.repeated = (counts.get(s.id) ?? 0) > 1
  return { segments, fieldSeparator, encodingCharacters }
}
