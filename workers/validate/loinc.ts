/**
 * SARS-CoV-2 LOINC codes sidep accepts, the test type each one means, and which outcomes each test
 * type may carry.
 *
 * Source of the qualitative codes: HL7 SMART Health Cards Vaccination & Testing IG, ValueSet
 * `lab-qualitative-test-covid` (version 2023.1), itself the subset of the LOINC "SARS-CoV-2 and
 * COVID-19" code list (loinc.org/sars-cov-2-and-covid-19) whose results are qualitative; the same codes
 * appear in the CDC LIVD SARS-CoV-2 test code mapping (VSAC 2.16.840.1.113762.1.4.1114.9). Short names
 * are LOINC's. From that value set we keep every nucleic-acid amplification (NAA), antigen (IA on a
 * respiratory specimen) and antibody code, and leave out what is not one of our three test types:
 * culture (94763-0), sequencing (94822-4, 95424-8, 95609-4), variant typing (96752-1), T-cell /
 * interferon-gamma assays (95970-0, 95971-8, 99772-6) and the influenza multiplex panel (95423-0).
 * The quantitative serology codes (IA-aCnc, titers, interpretation, panels) come from the same LOINC
 * list, their names as the HL7 / Logica COVID-19 FHIR Profile Library IG (hl7.org/fhir/us/covid19library)
 * profiles them (e.g. 95410-7 neutralizing antibody [Titer] by pVNT, 98734-7 S protein RBD neutralizing
 * antibody [Units/volume]); cycle-threshold codes (Ct, Qn) are not results in this model and are left out.
 * The generic "SARS-related coronavirus" (sarbecovirus) E gene / RNA codes are kept: LIVD maps
 * SARS-CoV-2 assays whose E gene target is sarbecovirus-wide to them.
 */
import { SNOMED_DETECTED, SNOMED_INCONCLUSIVE, SNOMED_NOT_DETECTED } from '../model/canonical.ts'
import type { ResultCode, TestType } from '../model/canonical.ts'

/** code → [test type, LOINC short name (long common name where the short one was not at hand)] */
const CODES: ReadonlyArray<readonly [string, TestType, string]> = [
  // --- nucleic acid amplification (RT-PCR, RT-LAMP, TMA...) ---
  ['94306-8', 'naat', 'SARS-CoV-2 RNA Pnl XXX NAA+probe'],
  ['94307-6', 'naat', 'SARS-CoV-2 N gene Spec Ql NAA N1'],
  ['94308-4', 'naat', 'SARS-CoV-2 N gene Spec Ql NAA N2'],
  ['94309-2', 'naat', 'SARS-CoV-2 RNA Spec Ql NAA+probe'],
  ['94310-0', 'naat', 'SARS-related CoV N Spec Ql NAA N3'],
  ['94314-2', 'naat', 'SARS-CoV-2 RdRp Spec Ql NAA+probe'],
  ['94315-9', 'naat', 'SARS-rel CoV E gene Spec Ql NAA+probe'],
  ['94316-7', 'naat', 'SARS-CoV-2 N gene Spec Ql NAA+probe'],
  ['94500-6', 'naat', 'SARS-CoV-2 RNA Resp Ql NAA+probe'],
  ['94502-2', 'naat', 'SARS-rel CoV RNA Resp Ql NAA+probe'],
  ['94531-1', 'naat', 'SARS-CoV-2 RNA Pnl Resp NAA+probe'],
  ['94532-9', 'naat', 'SARS-rel CoV+MERS RNA Resp Ql NAA+probe'],
  ['94533-7', 'naat', 'SARS-CoV-2 N gene Resp Ql NAA+probe'],
  ['94534-5', 'naat', 'SARS-CoV-2 RdRp Resp Ql NAA+probe'],
  ['94559-2', 'naat', 'SARS-CoV-2 ORF1ab Resp Ql NAA+probe'],
  ['94565-9', 'naat', 'SARS-CoV-2 RNA Nph Ql NAA+non-probe'],
  ['94639-2', 'naat', 'SARS-CoV-2 ORF1ab Spec Ql NAA+probe'],
  ['94640-0', 'naat', 'SARS-CoV-2 S gene Resp Ql NAA+probe'],
  ['94641-8', 'naat', 'SARS-CoV-2 S gene Spec Ql NAA+probe'],
  ['94647-5', 'naat', 'SARSr-CoV RNA Spec Ql NAA+probe'],
  ['94660-8', 'naat', 'SARS-CoV-2 RNA SerPl Ql NAA+probe'],
  ['94756-4', 'naat', 'SARS-CoV-2 N gene Resp Ql NAA N1'],
  ['94757-2', 'naat', 'SARS-CoV-2 N gene Resp Ql NAA N2'],
  ['94758-0', 'naat', 'SARS-rel CoV E gene Resp Ql NAA+probe'],
  ['94759-8', 'naat', 'SARS-CoV-2 RNA Nph Ql NAA+probe'],
  ['94760-6', 'naat', 'SARS-CoV-2 N gene Nph Ql NAA+probe'],
  ['94765-5', 'naat', 'SARS-rel CoV E gene SerPl Ql NAA+probe'],
  ['94766-3', 'naat', 'SARS-CoV-2 N gene SerPl Ql NAA+probe'],
  ['94767-1', 'naat', 'SARS-CoV-2 S gene SerPl Ql NAA+probe'],
  ['94845-5', 'naat', 'SARS-CoV-2 RNA Sal Ql NAA+probe'],
  ['95406-5', 'naat', 'SARS-CoV-2 RNA Nose Ql NAA+probe'],
  ['95409-9', 'naat', 'SARS-CoV-2 N gene Nose Ql NAA+probe'],
  ['95425-5', 'naat', 'SARS-CoV-2 N gene Sal Ql NAA+probe'],
  ['95608-6', 'naat', 'SARS-CoV-2 RNA Resp Ql NAA+non-probe'],
  ['95823-1', 'naat', 'SARS-rel CoV E gene Sal Ql NAA+probe'],
  ['95824-9', 'naat', 'SARS-CoV-2 ORF1ab Sal Ql NAA+probe'],
  ['96091-4', 'naat', 'SARS-CoV-2 RdRp Sal Ql NAA+probe'],
  ['96120-1', 'naat', 'SARS-CoV-2 RdRp Lower resp Ql NAA+probe'],
  ['96121-9', 'naat', 'SARS-rel CoV E gene Low resp Ql NAA+prb'],
  ['96122-7', 'naat', 'SARS-rel CoV E gene Upper resp Ql NAA+prb'],
  ['96123-5', 'naat', 'SARS-CoV-2 RdRp Upper resp Ql NAA+probe'],
  ['96448-6', 'naat', 'SARS-CoV-2 N gene Sal Ql NAA N1'],
  ['96763-8', 'naat', 'SARS-CoV-2 E gene Resp Ql NAA+probe'],
  ['96765-3', 'naat', 'SARS-CoV-2 S gene Sal Ql NAA+probe'],
  ['96797-6', 'naat', 'SARS-CoV-2 RNA OPA wash Ql NAA+probe'],
  ['96829-7', 'naat', 'SARS-CoV-2 RNA Spec Donr Ql NAA+probe'],
  ['96957-6', 'naat', 'SARS-CoV-2 M gene Upper resp Ql NAA+prb'],
  ['96958-4', 'naat', 'SARS-CoV-2 N gene Sal Ql NAA N2'],
  ['96986-5', 'naat', 'SARS-CoV-2 N gene Nose Ql NAA+non-probe'],
  ['97098-8', 'naat', 'SARS-CoV-2 Nsp2 Upper resp Ql NAA+probe'],
  ['98131-6', 'naat', 'SARS-CoV-2 ORF1b Resp Ql NAA+probe'],
  ['98132-4', 'naat', 'SARS-CoV-2 ORF1a Resp Ql NAA+probe'],
  ['98493-0', 'naat', 'SARS-CoV-2 ORF1b Sal Ql NAA+probe'],
  ['98494-8', 'naat', 'SARS-CoV-2 ORF1a Sal Ql NAA+probe'],
  // --- antigen (rapid and laboratory immunoassays) ---
  ['94558-4', 'antigen', 'SARS-CoV-2 Ag Resp Ql IA.rapid'],
  ['95209-3', 'antigen', 'SARS-CoV+SARS-CoV-2 Ag Resp Ql IA.rapid'],
  ['96119-3', 'antigen', 'SARS-CoV-2 Ag Upper resp Ql IA'],
  ['97097-0', 'antigen', 'SARS-CoV-2 Ag Upper resp Ql IA.rapid'],
  // --- serology (antibodies) ---
  ['94503-0', 'serology', 'SARS-CoV-2 IgG+IgM Pnl SerPlBld IA.rapid'],
  ['94504-8', 'serology', 'SARS-CoV-2 Ab Pnl SerPl IA'],
  ['94505-5', 'serology', 'SARS-CoV-2 IgG SerPl IA-aCnc'],
  ['94506-3', 'serology', 'SARS-CoV-2 IgM SerPl IA-aCnc'],
  ['94507-1', 'serology', 'SARS-CoV-2 IgG SerPlBld Ql IA.rapid'],
  ['94508-9', 'serology', 'SARS-CoV-2 IgM SerPlBld Ql IA.rapid'],
  ['94547-7', 'serology', 'SARS-CoV-2 IgG+IgM SerPl Ql IA'],
  ['94562-6', 'serology', 'SARS-CoV-2 IgA SerPl Ql IA'],
  ['94563-4', 'serology', 'SARS-CoV-2 IgG SerPl Ql IA'],
  ['94564-2', 'serology', 'SARS-CoV-2 IgM SerPl Ql IA'],
  ['94661-6', 'serology', 'SARS-CoV-2 Ab SerPl-Imp'],
  ['94720-0', 'serology', 'SARS-CoV-2 IgA SerPl IA-aCnc'],
  ['94761-4', 'serology', 'SARS-CoV-2 IgG DBS Ql IA'],
  ['94762-2', 'serology', 'SARS-CoV-2 Ab SerPl Ql IA'],
  ['94768-9', 'serology', 'SARS-CoV-2 IgA SerPlBld Ql IA.rapid'],
  ['94769-7', 'serology', 'SARS-CoV-2 Ab SerPl IA-aCnc'],
  ['95125-1', 'serology', 'SARS-CoV-2 IgA+IgM SerPl Ql IA'],
  ['95410-7', 'serology', 'SARS-CoV-2 (COVID-19) neutralizing antibody [Titer] in Serum by pVNT'],
  ['95411-5', 'serology', 'SARS-CoV-2 NAb Ser Ql pVNT'],
  ['95416-4', 'serology', 'SARS-CoV-2 IgM DBS Ql IA'],
  ['95542-7', 'serology', 'SARS-CoV-2 Ab SerPlBld Ql IA.rapid'],
  ['95825-6', 'serology', 'SARS-CoV-2 Ab DBS Ql IA'],
  ['96603-6', 'serology', 'SARS-CoV-2 S RBD NAb SerPl Ql sVNT'],
  ['98069-8', 'serology', 'SARS-CoV-2 Ab Sal Ql IA.rapid'],
  ['99596-9', 'serology', 'SARS-CoV-2 N IgG SerPl Ql IA'],
  ['99597-7', 'serology', 'SARS-CoV-2 S IgG SerPl Ql IA'],
  ['98732-1', 'serology', 'SARS-CoV-2 (COVID-19) S protein RBD neutralizing antibody [Titer] in Serum or Plasma by Immunoassay'],
  ['98734-7', 'serology', 'SARS-CoV-2 (COVID-19) S protein RBD neutralizing antibody [Units/volume] in Serum or Plasma by Immunoassay'],
]

const BY_CODE: ReadonlyMap<string, TestType> = new Map(CODES.map(([code, type]) => [code, type]))

/** Every accepted code with its test type and LOINC name (for documentation pages). */
export const KNOWN_LOINC: ReadonlyArray<{ code: string; testType: TestType; name: string }> = Object.freeze(
  CODES.map(([code, testType, name]) => Object.freeze({ code, testType, name })),
)

/** The test type of a LOINC code, or null when sidep does not know the code. */
export function testTypeOf(loinc: string): TestType | null {
  return BY_CODE.get(loinc) ?? null
}

/**
 * Qualitative outcomes allowed per test type: the DCC value set covid-19-lab-result (detected, not
 * detected) plus inconclusive, as DESIGN.md "Canonical result" fixes. The three types share them today;
 * the table is per type so that one can narrow without touching callers.
 */
const ALL_RESULTS: readonly ResultCode[] = [SNOMED_DETECTED, SNOMED_NOT_DETECTED, SNOMED_INCONCLUSIVE]
export const RESULTS_BY_TEST_TYPE: Readonly<Record<TestType, readonly ResultCode[]>> = Object.freeze({
  naat: ALL_RESULTS,
  antigen: ALL_RESULTS,
  serology: ALL_RESULTS,
})

/** Whether `result` is an allowed outcome for the test type (any type when testType is null). */
export function isResultValidFor(testType: TestType | null, result: string): result is ResultCode {
  const allowed = testType === null ? ALL_RESULTS : RESULTS_BY_TEST_TYPE[testType]
  return (allowed as readonly string[]).includes(result)
}

/**
 * A numeric value with a UCUM unit only makes sense for antibody measurements (IA-aCnc, titers):
 * NAAT and antigen outcomes are qualitative here (cycle thresholds are not carried).
 */
export function allowsQuantity(testType: TestType): boolean {
  return testType === 'serology'
}
