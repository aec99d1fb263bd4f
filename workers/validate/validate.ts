/**
 * validateItem: one item as a lab sent it (the JSON contract of workers/schemas/result.schema.json)
 * → a CanonicalResult, or every problem found, itemised (DESIGN.md: code, field path, message).
 *
 * Structure is checked by Ajv against the published schema (compiled once per process / worker, with
 * allErrors so the lab sees all problems in one round trip); then the rules that JSON Schema cannot
 * express: LOINC code known and the outcome valid for its test type (loinc.ts), dates (dates.ts), INS
 * key (nir.ts), postcode (geo.ts), names that normalise to something (identity.ts). A rule runs only on
 * fields that passed the structural check, so one mistake gives one error.
 *
 * Messages are for a lab integrator and never contain a value from the item: names, birth dates and
 * INS are personal data, and these messages end up in logs, metrics and the lab status stream.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ErrorObject } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type {
  Address,
  CanonicalResult,
  ItemError,
  PatientIdentity,
  Prescriber,
  ResultStatus,
  Sex,
  TestType,
  ValidationOutcome,
} from '../model/canonical.ts'
import { ERROR_CODES } from './codes.ts'
import type { ErrorCode } from './codes.ts'
import { checkBirthDate, checkResultInstants } from './dates.ts'
import { residenceOf } from './geo.ts'
import { normaliseName } from './identity.ts'
import { allowsQuantity, isResultValidFor, testTypeOf } from './loinc.ts'
import { checkNir } from './nir.ts'

export { ERROR_CODES }
export type { ErrorCode }

export interface ValidateContext {
  /** platform id of the lab, from its credential (never from the body) */
  labId: string
  /** epoch milliseconds of "now", a parameter so that validation is deterministic */
  now: number
  /**
   * The caller hands over an item nothing else reads (fresh from JSON.parse or a parser): its strings are
   * trimmed in place rather than in a copy of the whole item (one object graph less per item to allocate and
   * collect). The outcome is the same either way.
   */
  ownsItem?: boolean
}

/** The published JSON Schema of one result, as parsed at load (for documentation endpoints). */
export const resultSchema: Readonly<Record<string, unknown>> = Object.freeze(
  JSON.parse(readFileSync(new URL('../schemas/result.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>,
)

// ajv-formats is CommonJS with `exports.default`: under NodeNext typing the default import is the
// module object, at run time it is the function itself; accept both.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default
const ajv = new Ajv2020({ allErrors: true, strict: true })
addFormats(ajv, ['email'])
const validateStructure = ajv.compile(resultSchema)

/** The item after trimming, typed as the schema promises (only read fields that passed it). */
interface RawItem {
  accession: string
  loinc: string
  result: string
  value?: number
  unit?: string
  status: ResultStatus
  sampledAt: string
  resultedAt: string
  specimen?: string
  device?: string
  orderId?: string
  patient: {
    ins?: string
    family: string
    given: string[]
    birthDate: string
    sex: Sex
    address?: { line?: string; postcode?: string; city?: string; country?: string }
    phone?: string
    email?: string
  }
  prescriber?: { id: string; idType?: string; family?: string; given?: string }
}

/**
 * Copy of the item with every string trimmed (labs pad fields from fixed-width LIS exports). A
 * "__proto__" key is defined as a plain own property (and then reported as unknown), never assigned,
 * so it cannot change the copy's prototype. Deeper than the schema goes (4 levels) nothing is copied:
 * it is rejected anyway.
 */
function trimmedCopy(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.trim()
  if (depth >= 4 || v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length)
    for (let i = 0; i < v.length; i++) out[i] = trimmedCopy(v[i], depth + 1)
    return out
  }
  const out: Record<string, unknown> = {}
  const src = v as Record<string, unknown>
  for (const k of Object.keys(src)) {
    const x = trimmedCopy(src[k], depth + 1)
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, configurable: true, writable: true })
    else out[k] = x
  }
  return out
}

/**
 * trimmedCopy's work done in place on an item the caller owns: the same strings trimmed to the same depth,
 * a "__proto__" own property redefined, never assigned (assignment would change the object's prototype).
 */
function trimInPlace(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.trim()
  if (depth >= 4 || v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]
      if (typeof x === 'string') {
        const t = x.trim()
        if (t !== x) v[i] = t
      } else if (x !== null && typeof x === 'object') trimInPlace(x, depth + 1)
    }
    return v
  }
  const src = v as Record<string, unknown>
  for (const k of Object.keys(src)) {
    const x = src[k]
    if (typeof x === 'string') {
      const t = x.trim()
      if (t === x) continue
      if (k === '__proto__') Object.defineProperty(src, k, { value: t, enumerable: true, configurable: true, writable: true })
      else src[k] = t
    } else if (x !== null && typeof x === 'object') trimInPlace(x, depth + 1)
  }
  return v
}

/** JSON Pointer '/patient/given/0' → 'patient.given.0' */
function pointerToPath(pointer: string): string {
  if (pointer === '') return ''
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.')
}

function join(base: string, key: string): string {
  return base === '' ? key : base + '.' + key
}

/** How to describe a field in a message: the whole item has no path. */
function subject(field: string): string {
  return field === '' ? 'The item' : field
}

const NO_CONTROL = 'must not contain control characters (tab, new line...) or unpaired UTF-16 surrogates'
/** What a pattern / format failure means, per field (array indexes written '*'), and its code. */
const FORMAT_RULES: Readonly<Record<string, { code: ErrorCode; hint: string }>> = {
  loinc: { code: 'INVALID_FORMAT', hint: 'must be a LOINC code, digits then a dash and a check digit, e.g. 94500-6' },
  result: { code: 'INVALID_FORMAT', hint: 'must be a SNOMED CT code (digits only), e.g. 260373001' },
  specimen: { code: 'INVALID_FORMAT', hint: 'must be a SNOMED CT code (digits only), e.g. 258500001' },
  unit: { code: 'INVALID_FORMAT', hint: "must be a UCUM unit without spaces, e.g. [arb'U]/mL" },
  sampledAt: {
    code: 'INVALID_FORMAT',
    hint: 'must be an ISO 8601 date and time with an explicit UTC offset or Z, e.g. 2026-11-24T08:30:00+01:00',
  },
  resultedAt: {
    code: 'INVALID_FORMAT',
    hint: 'must be an ISO 8601 date and time with an explicit UTC offset or Z, e.g. 2026-11-24T15:02:00+01:00',
  },
  'patient.ins': {
    code: 'INVALID_NIR_FORMAT',
    hint: 'must be 15 characters without spaces: the 13-character NIR (2A or 2B for Corsica) followed by its 2-digit key',
  },
  'patient.birthDate': { code: 'INVALID_BIRTH_DATE', hint: 'must be a real calendar date written YYYY-MM-DD' },
  'patient.address.country': { code: 'INVALID_FORMAT', hint: 'must be an ISO 3166-1 alpha-2 country code, e.g. FR' },
  'patient.phone': {
    code: 'INVALID_FORMAT',
    hint: 'must be an E.164 number: + then the country code and number, digits only, e.g. +33612345678',
  },
  'patient.email': { code: 'INVALID_FORMAT', hint: 'must be an e-mail address' },
}

function mapAjvError(e: ErrorObject): ItemError {
  const base = pointerToPath(e.instancePath)
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required': {
      const field = join(base, String(p.missingProperty))
      return { code: 'REQUIRED', field, message: `${field} is required.` }
    }
    case 'dependentRequired': {
      const field = join(base, String(p.missingProperty))
      return { code: 'REQUIRED', field, message: `${field} is required when ${join(base, String(p.property))} is given.` }
    }
    case 'additionalProperties': {
      const field = join(base, String(p.additionalProperty))
      return {
        code: 'UNKNOWN_FIELD',
        field,
        message: `${field} is not a field of the result format (check its spelling against the published schema).`,
      }
    }
    case 'type': {
      const t = String(p.type)
      const article = t === 'array' || t === 'object' || t === 'integer' ? 'an' : 'a'
      const what = t === 'object' && base === '' ? 'a JSON object' : `${article} ${t === 'object' ? 'JSON object' : t}`
      return { code: 'INVALID_TYPE', field: base, message: `${subject(base)} must be ${what}.` }
    }
    case 'maxLength':
      return { code: 'TOO_LONG', field: base, message: `${subject(base)} must be at most ${String(p.limit)} characters.` }
    case 'maxItems':
      return { code: 'TOO_LONG', field: base, message: `${subject(base)} must have at most ${String(p.limit)} entries.` }
    case 'minLength':
    case 'minItems':
      return { code: 'REQUIRED', field: base, message: `${subject(base)} must not be empty.` }
    case 'pattern':
    case 'format': {
      const rule = FORMAT_RULES[base.replace(/\.[0-9]+(?=\.|$)/g, '.*')]
      return rule === undefined
        ? { code: 'INVALID_FORMAT', field: base, message: `${subject(base)} ${NO_CONTROL}.` }
        : { code: rule.code, field: base, message: `${subject(base)} ${rule.hint}.` }
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String).join(', ')
      return { code: 'INVALID_VALUE', field: base, message: `${subject(base)} must be one of: ${allowed}.` }
    }
    case 'minimum':
      return { code: 'INVALID_VALUE', field: base, message: `${subject(base)} must be ${String(p.comparison)} ${String(p.limit)}.` }
    default:
      return { code: 'INVALID_VALUE', field: base, message: `${subject(base)} does not satisfy the published schema (${e.keyword}).` }
  }
}

// ISO 3166-1 alpha-2 check without a country table of our own: ICU (bundled with Node) names every
// assigned code and echoes unknown ones. Codes ICU knows that are not countries are excluded.
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' })
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ'])
const countryCache = new Map<string, boolean>() // at most 26 × 26 entries
function isCountryCode(code: string): boolean {
  let known = countryCache.get(code)
  if (known === undefined) {
    known = /^[A-Z]{2}$/.test(code) && !NOT_COUNTRIES.has(code) && regionNames.of(code) !== code
    countryCache.set(code, known)
  }
  return known
}

const RESULT_HINT = '260373001 (detected), 260415000 (not detected) or 419984006 (inconclusive)'

/**
 * Validate and normalise one item. Never throws on bad input: every problem is an ItemError.
 */
export function validateItem(raw: unknown, ctx: ValidateContext): ValidationOutcome {
  const data = ctx.ownsItem === true ? trimInPlace(raw, 0) : trimmedCopy(raw, 0)
  const errors: ItemError[] = []
  const bad = new Set<string>()
  if (!validateStructure(data)) {
    for (const e of validateStructure.errors!) {
      const err = mapAjvError(e)
      errors.push(err)
      bad.add(err.field)
    }
    if (bad.has('')) return { ok: false, errors } // not even an object: nothing else can be checked
  }
  /** a field can be read when neither it nor a parent failed the structural check */
  const usable = (field: string): boolean => {
    if (bad.size === 0) return true
    for (let f = field; ; ) {
      if (bad.has(f)) return false
      const dot = f.lastIndexOf('.')
      if (dot < 0) return true
      f = f.slice(0, dot)
    }
  }
  const d = data as RawItem

  // --- test and outcome ---
  let testType: TestType | null = null
  if (usable('loinc')) {
    testType = testTypeOf(d.loinc)
    if (testType === null) {
      errors.push({
        code: 'UNKNOWN_LOINC',
        field: 'loinc',
        message: 'loinc is not one of the SARS-CoV-2 test codes (NAAT, antigen, serology) accepted by sidep.',
      })
    }
  }
  if (usable('result') && !isResultValidFor(testType, d.result)) {
    errors.push({
      code: 'RESULT_NOT_VALID_FOR_TEST',
      field: 'result',
      message:
        testType === null
          ? `result must be ${RESULT_HINT}.`
          : `result must be ${RESULT_HINT} for a ${testType} test.`,
    })
  }
  if (testType !== null && !allowsQuantity(testType) && (d.value !== undefined || d.unit !== undefined)) {
    const field = d.value !== undefined ? 'value' : 'unit'
    errors.push({
      code: 'VALUE_NOT_ALLOWED',
      field,
      message: `value and unit are only allowed for serology tests; this loinc code is a ${testType} test.`,
    })
  }

  // --- dates ---
  const instants = checkResultInstants(
    usable('sampledAt') ? d.sampledAt : null,
    usable('resultedAt') ? d.resultedAt : null,
    ctx.now,
  )
  for (const e of instants.errors) errors.push(e)

  // --- patient ---
  const patientOk = usable('patient')
  if (patientOk && usable('patient.birthDate')) {
    const sampledLocalDate = instants.sampledAtMs !== null ? d.sampledAt.slice(0, 10) : null
    const e = checkBirthDate(d.patient.birthDate, sampledLocalDate, ctx.now)
    if (e !== null) errors.push(e)
  }
  if (patientOk && d.patient.ins !== undefined && usable('patient.ins')) {
    const nir = checkNir(d.patient.ins)
    if (!nir.ok) {
      errors.push(
        nir.reason === 'key'
          ? {
              code: 'INVALID_NIR_KEY',
              field: 'patient.ins',
              message: 'patient.ins: the key (last two digits) does not match the first 13 characters; check for a typing error.',
            }
          : { code: 'INVALID_NIR_FORMAT', field: 'patient.ins', message: `patient.ins ${FORMAT_RULES['patient.ins']!.hint}.` },
      )
    }
  }
  if (patientOk && usable('patient.family') && normaliseName(d.patient.family) === '') {
    errors.push({ code: 'INVALID_VALUE', field: 'patient.family', message: 'patient.family must contain at least one letter.' })
  }
  if (patientOk && usable('patient.given')) {
    for (let i = 0; i < d.patient.given.length; i++) {
      const field = 'patient.given.' + i
      if (usable(field) && normaliseName(d.patient.given[i]!) === '') {
        errors.push({ code: 'INVALID_VALUE', field, message: `${field} must contain at least one letter.` })
      }
    }
  }
  const address = patientOk && usable('patient.address') ? d.patient.address : undefined
  let residence = residenceOf(undefined)
  if (address !== undefined) {
    const countryOk = usable('patient.address.country')
    const country = countryOk && address.country !== undefined && address.country !== '' ? address.country.toUpperCase() : undefined
    if (country !== undefined && !isCountryCode(country)) {
      errors.push({
        code: 'INVALID_VALUE',
        field: 'patient.address.country',
        message: 'patient.address.country is not an assigned ISO 3166-1 alpha-2 country code.',
      })
    } else if (countryOk && usable('patient.address.postcode')) {
      residence = residenceOf({ postcode: address.postcode, country })
      if (residence.problem === 'INVALID_FORMAT') {
        errors.push({
          code: 'INVALID_FORMAT',
          field: 'patient.address.postcode',
          message: 'patient.address.postcode must be 5 digits for an address in France (country FR or absent).',
        })
      } else if (residence.problem === 'UNKNOWN_POSTCODE') {
        errors.push({
          code: 'UNKNOWN_POSTCODE',
          field: 'patient.address.postcode',
          message: 'patient.address.postcode is not a French postcode of any department or overseas territory.',
        })
      }
    }
  }

  if (errors.length > 0) return { ok: false, errors }

  // --- success: build the canonical record, optional fields only when present ---
  const p = d.patient
  const patient: PatientIdentity = { family: p.family, given: p.given, birthDate: p.birthDate, sex: p.sex }
  if (p.ins !== undefined) patient.ins = p.ins
  if (address !== undefined) {
    const a: Address = { country: address.country === undefined || address.country === '' ? 'FR' : address.country.toUpperCase() }
    if (address.line !== undefined && address.line !== '') a.line = address.line
    if (address.postcode !== undefined && address.postcode !== '') a.postcode = address.postcode
    if (address.city !== undefined && address.city !== '') a.city = address.city
    patient.address = a
  }
  if (p.phone !== undefined) patient.phone = p.phone
  if (p.email !== undefined) patient.email = p.email

  const result: CanonicalResult = {
    labId: ctx.labId,
    accession: d.accession,
    loinc: d.loinc,
    testType: testType!,
    result: d.result as CanonicalResult['result'],
    status: d.status,
    sampledAt: d.sampledAt,
    resultedAt: d.resultedAt,
    sampledAtMs: instants.sampledAtMs!,
    resultedAtMs: instants.resultedAtMs!,
    patient,
    residence: residence.residence,
  }
  if (d.value !== undefined) result.value = d.value
  if (d.unit !== undefined) result.unit = d.unit
  if (d.specimen !== undefined) result.specimen = d.specimen
  if (d.device !== undefined) result.device = d.device
  if (d.orderId !== undefined) result.orderId = d.orderId
  if (d.prescriber !== undefined) {
    const pr: Prescriber = { id: d.prescriber.id }
    if (d.prescriber.idType !== undefined) pr.idType = d.prescriber.idType
    if (d.prescriber.family !== undefined && d.prescriber.family !== '') pr.family = d.prescriber.family
    if (d.prescriber.given !== undefined && d.prescriber.given !== '') pr.given = d.prescriber.given
    result.prescriber = pr
  }
  return { ok: true, result }
}
