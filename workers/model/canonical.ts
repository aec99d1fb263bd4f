/**
 * The canonical result: the one internal model every input format is parsed into (DESIGN.md,
 * "Canonical result"). Everything downstream of the workers speaks only these types.
 */

export type TestType = 'naat' | 'antigen' | 'serology'
export type ResultStatus = 'final' | 'corrected' | 'cancelled'
export type Sex = 'F' | 'M' | 'U'

/** SNOMED CT codes for qualitative outcomes (DCC value set covid-19-lab-result). */
export const SNOMED_DETECTED = '260373001'
export const SNOMED_NOT_DETECTED = '260415000'
export const SNOMED_INCONCLUSIVE = '419984006'
export type ResultCode = typeof SNOMED_DETECTED | typeof SNOMED_NOT_DETECTED | typeof SNOMED_INCONCLUSIVE

export interface Address {
  line?: string
  postcode?: string
  city?: string
  /** ISO 3166-1 alpha-2 */
  country: string
}

export interface PatientIdentity {
  /** 15-character INS/NIR (13 digits, Corsica 2A/2B allowed in positions 6-7, + 2-digit key), key checked */
  ins?: string
  family: string
  given: string[]
  /** YYYY-MM-DD */
  birthDate: string
  sex: Sex
  address?: Address
  /** E.164 */
  phone?: string
  email?: string
}

export interface Prescriber {
  id: string
  idType?: string
  family?: string
  given?: string
}

/** Where a French residence falls; null department for foreign or unknown residence (never guessed). */
export interface Residence {
  country: string
  /** INSEE department code ('75', '2A', '971') or null when not in France / unknown */
  department: string | null
  /** INSEE region code ('11', '94') or null */
  region: string | null
}

/** A validated, normalised result as the workers hand it to the sinks. */
export interface CanonicalResult {
  labId: string
  accession: string
  loinc: string
  testType: TestType
  result: ResultCode
  value?: number
  unit?: string
  status: ResultStatus
  /** ISO 8601 instants as the lab sent them, and the parsed epoch milliseconds */
  sampledAt: string
  resultedAt: string
  sampledAtMs: number
  resultedAtMs: number
  specimen?: string
  device?: string
  orderId?: string
  patient: PatientIdentity
  prescriber?: Prescriber
  residence: Residence
}

/** One itemised problem with an input item (issue #2: code, field path, message). */
export interface ItemError {
  /** stable machine code, e.g. 'UNKNOWN_LOINC', 'INVALID_NIR_KEY' */
  code: string
  /** JSON path of the offending field in the lab's item, e.g. 'patient.ins' ('' for the whole item) */
  field: string
  message: string
}

export type ValidationOutcome =
  | { ok: true; result: CanonicalResult }
  | { ok: false; errors: ItemError[] }
