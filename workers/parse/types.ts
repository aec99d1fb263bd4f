/**
 * What every lab-format parser (HL7 v2.5.1, FHIR R4, CSV) hands to the rest of the pipeline: items in
 * the public JSON contract shape (DESIGN.md "The canonical result as labs send it in JSON"), raw and not
 * validated, each with where it came from, plus itemised errors naming the field in the lab's own format.
 *
 * Numbering: `index` is the position of a "submission unit" in input order, shared by items and
 * errors. Every item gets its own index; a unit that could not be turned into an item (a rejected HL7
 * message, a rejected OBX, a bad CSV row, a bad FHIR Observation) gets one index too, and all its errors
 * carry it. So a submission's per-item status list is indices 0..n-1, each either an item or errors.
 */

export interface ParsedItem {
  index: number
  /** An object in the lab JSON contract shape, not validated (workers/validate checks it). */
  item: Record<string, unknown>
  /** Human-readable origin, e.g. 'message 3 OBX 2', 'Bundle.entry[11] Observation/06735b3b', 'row 17'. */
  source: string
}

export interface ParseError {
  index: number
  /** Stable machine code, one of ParseErrorCode. */
  code: string
  /**
   * The field in the lab's format: 'PID-7', 'OBX(2)-5', 'PID-11.6' (HL7: segment, optional occurrence in
   * parentheses, field, optional component), 'Patient.birthDate' / 'Bundle.entry[3].resource' (FHIR),
   * 'row 17 column birthDate' (CSV), '' for the whole input.
   */
  field: string
  message: string
}

export interface ParseOutput {
  items: ParsedItem[]
  /** Units rejected by the parser. */
  errors: ParseError[]
  /**
   * Things the parser noticed and worked around without rejecting anything (a phone number omitted
   * because it could not be made E.164 unambiguously, a non-SARS-CoV-2 OBX skipped, a batch trailer
   * count that does not match). Same shape as errors; index is the unit concerned (-1 for the input).
   */
  warnings?: ParseError[]
  /** Format-specific answer material: for HL7, the per-message headers the ACK is built from. */
  ack?: unknown
}

/** The error codes every parser uses; the HL7 ACK maps them to HL7 table 0357. */
export const ParseErrorCode = {
  /** The input cannot be read at all in the declared/detected format (bad JSON, no MSH, empty body). */
  SYNTAX: 'SYNTAX',
  /** Segments/resources in an order or arrangement the message structure does not allow. */
  STRUCTURE: 'STRUCTURE',
  /** A field the contract requires is empty in the input. */
  REQUIRED_MISSING: 'REQUIRED_MISSING',
  /** A value is not of the expected data type (date, number). */
  DATA_TYPE: 'DATA_TYPE',
  /** A coded value is not one sidep can represent (sex, result status, value type). */
  UNSUPPORTED_CODE: 'UNSUPPORTED_CODE',
  /** HL7 MSH-9 other than ORU^R01, or a FHIR Bundle type / resource we do not take. */
  UNSUPPORTED_MESSAGE: 'UNSUPPORTED_MESSAGE',
  /** HL7 MSH-12 not a 2.5.x version. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** A message / report with no SARS-CoV-2 result in it. */
  NO_RESULT: 'NO_RESULT',
  /** A FHIR reference that does not resolve inside the Bundle. */
  UNRESOLVED_REFERENCE: 'UNRESOLVED_REFERENCE',
  /** CSV header line that is not the documented template. */
  BAD_HEADER: 'BAD_HEADER',
  /** Informational codes used in warnings. */
  OMITTED: 'OMITTED',
  SKIPPED: 'SKIPPED',
  COUNT_MISMATCH: 'COUNT_MISMATCH',
} as const
export type ParseErrorCode = (typeof ParseErrorCode)[keyof typeof ParseErrorCode]

/** Drop undefined, empty strings, empty arrays and empty objects so items carry only what was sent. */
export function compact<T extends Record<string, unknown>>(obj: T): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) {
      if (v.length === 0) continue
      out[k] = v
      continue
    }
    if (typeof v === 'object') {
      const inner = compact(v as Record<string, unknown>)
      if (Object.keys(inner).length === 0) continue
      out[k] = inner
      continue
    }
    out[k] = v
  }
  return out
}
