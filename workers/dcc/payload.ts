/**
 * The DCC test-certificate payload (hcert claim -260/1), per the eu-dcc-schema v1.3.x
 * (DCC.combined-schema.json, `test_entry`) and the eHN value sets.
 *
 * Which results get a DCC (Regulation (EU) 2021/953 art. 6 and Annex "test certificate": NAAT or rapid
 * antigen tests only):
 * - NAAT and rapid antigen results with a qualitative outcome detected / not detected, status final or
 *   corrected → eligible;
 * - serology → no DCC (antibody tests are not "tests" under the regulation and the test-type value set
 *   has no serology code);
 * - inconclusive (SNOMED 419984006) → no DCC (the covid-19-lab-result value set has only 260373001 and
 *   260415000);
 * - cancelled → no DCC (the caller revokes any certificate already issued).
 */
import type { CanonicalResult } from '../model/canonical.ts'
import { SNOMED_DETECTED, SNOMED_NOT_DETECTED } from '../model/canonical.ts'
import { icaoTransliterate } from './transliterate.ts'
import { DISEASE_COVID19, TEST_TYPE_NAAT, TEST_TYPE_RAT, isKnownRatDevice } from './valuesets.ts'

/** eu-dcc-schema person_name */
export interface DccName { fn?: string, fnt?: string, gn?: string, gnt?: string }

/** eu-dcc-schema test_entry */
export interface DccTestEntry {
  tg: string
  tt: string
  nm?: string
  ma?: string
  sc: string
  tr: string
  tc?: string
  co: string
  is: string
  ci: string
}

/** eu-dcc-schema root, test variant */
export interface DccTestPayload {
  ver: string
  nam: DccName
  dob: string
  t: [DccTestEntry]
}

export interface PayloadOptions {
  /** `is`: certificate issuer, max 80 characters (e.g. "Ministère des Solidarités et de la Santé") */
  issuer: string
  /** `ci`: the UVCI for this certificate (uvci.ts makeUvci) */
  uvci: string
  /** `tc`: testing centre (the lab's name), max 80 characters; omitted when not given */
  testingCentre?: string
  /** `co`: member state of test, ISO 3166-1 alpha-2; default 'FR' */
  country?: string
  /** `ver`: schema version announced in the payload; default DCC_SCHEMA_VERSION */
  schemaVersion?: string
}

/** Version of the schema the payload follows (eu-dcc-schema release 1.3.0; the test entry is unchanged to 1.3.3). */
export const DCC_SCHEMA_VERSION = '1.3.0'

/** Why a result gets no DCC. */
export type IneligibleReason = 'SEROLOGY' | 'INCONCLUSIVE' | 'CANCELLED'

export type PayloadOutcome =
  | { eligible: true, payload: DccTestPayload, warnings: string[] }
  | { eligible: false, reason: IneligibleReason, message: string }

const MAX = 80 // eu-dcc-schema: maxLength of fn, gn, tc, is, nm, ci

/**
 * sc: schema `format: date-time`; the eHN guidelines show UTC with seconds precision
 * ("2021-04-13T14:20:00Z"), which every verifier parses, so normalise to that.
 */
function sampleTime (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function clip (value: string, field: string, warnings: string[]): string {
  if (value.length <= MAX) return value
  warnings.push(`${field} truncated to ${MAX} characters (eu-dcc-schema maxLength)`)
  return value.slice(0, MAX)
}

export function buildTestPayload (result: CanonicalResult, options: PayloadOptions): PayloadOutcome {
  if (result.testType === 'serology') {
    return { eligible: false, reason: 'SEROLOGY', message: 'serology results get no DCC: the test certificate covers NAAT and rapid antigen tests only' }
  }
  if (result.status === 'cancelled') {
    return { eligible: false, reason: 'CANCELLED', message: 'a cancelled result gets no DCC (revoke the one already issued)' }
  }
  if (result.result !== SNOMED_DETECTED && result.result !== SNOMED_NOT_DETECTED) {
    return { eligible: false, reason: 'INCONCLUSIVE', message: 'an inconclusive result gets no DCC: covid-19-lab-result has only detected (260373001) and not detected (260415000)' }
  }
  const warnings: string[] = []
  const p = result.patient
  const nam: DccName = {}
  const fn = p.family.trim()
  if (fn !== '') {
    nam.fn = clip(fn, 'nam.fn', warnings)
    nam.fnt = icaoTransliterate(fn)
  }
  const gn = p.given.map(g => g.trim()).filter(g => g !== '').join(' ')
  if (gn !== '') {
    nam.gn = clip(gn, 'nam.gn', warnings)
    nam.gnt = icaoTransliterate(gn)
  }
  const entry: DccTestEntry = {
    tg: DISEASE_COVID19,
    tt: result.testType === 'naat' ? TEST_TYPE_NAAT : TEST_TYPE_RAT,
    sc: sampleTime(result.sampledAtMs),
    tr: result.result,
    co: options.country ?? 'FR',
    is: clip(options.issuer, 'is', warnings),
    ci: options.uvci
  }
  // ma: RAT device id from the covid-19-lab-test-manufacturer-and-name value set, when given and known.
  if (result.testType === 'antigen' && result.device !== undefined) {
    if (isKnownRatDevice(result.device)) entry.ma = result.device
    else warnings.push(`device ${result.device} is not in the rapid antigen test device value set: ma omitted`)
  }
  if (options.testingCentre !== undefined && options.testingCentre.trim() !== '') {
    entry.tc = clip(options.testingCentre.trim(), 't.tc', warnings)
  }
  return {
    eligible: true,
    payload: { ver: options.schemaVersion ?? DCC_SCHEMA_VERSION, nam, dob: p.birthDate, t: [entry] },
    warnings
  }
}
