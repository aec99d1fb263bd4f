/**
 * Which observations in a lab message are SARS-CoV-2 test results (→ items) and which are not.
 *
 * This is selection only: the validator (workers/validate) decides whether a selected code is one the
 * platform accepts. The list is therefore deliberately wider than the accepted one: the LOINC
 * "SARS-CoV-2 and COVID-19" group (loinc.org/sars-cov-2-and-covid-19) test codes, including culture,
 * sequencing and T-cell assays, so that such a result reaches the validator and is rejected with a clear
 * UNKNOWN_LOINC rather than skipped in silence.
 *
 * Everything else with a LOINC code is skipped with a warning: "ask at order entry" questions (ELR
 * implementation guides send them as OBX with OBX-29 = QST, or FHIR Observations referenced from
 * ServiceRequest.supportingInfo) and other tests of a multiplex panel (influenza, RSV).
 */

const SARS_COV_2_TESTS = new Set(
  (
    // nucleic acid amplification
    '94306-8 94307-6 94308-4 94309-2 94310-0 94311-8 94312-6 94313-4 94314-2 94315-9 94316-7 94500-6 ' +
    '94502-2 94509-7 94510-5 94511-3 94531-1 94532-9 94533-7 94534-5 94559-2 94565-9 94639-2 94640-0 ' +
    '94641-8 94642-6 94643-4 94644-2 94645-9 94646-7 94647-5 94660-8 94745-7 94746-5 94756-4 94757-2 ' +
    '94758-0 94759-8 94760-6 94764-8 94765-5 94766-3 94767-1 94819-0 94845-5 95406-5 95409-9 95425-5 ' +
    '95608-6 95823-1 95824-9 95826-4 96091-4 96120-1 96121-9 96122-7 96123-5 96448-6 96763-8 96764-6 ' +
    '96765-3 96766-1 96797-6 96829-7 96957-6 96958-4 96986-5 97098-8 97099-6 98131-6 98132-4 98493-0 ' +
    '98494-8 99314-7 ' +
    // culture, sequencing, variant typing (not accepted by the validator today)
    '94763-0 94822-4 95424-8 95609-4 96741-4 96751-3 96752-1 96894-1 96895-8 96896-6 96897-4 96898-2 ' +
    '96899-0 96900-6 ' +
    // antigen
    '94558-4 95209-3 96119-3 97097-0 ' +
    // antibodies and T-cell response
    '94503-0 94504-8 94505-5 94506-3 94507-1 94508-9 94547-7 94562-6 94563-4 94564-2 94661-6 94720-0 ' +
    '94761-4 94762-2 94768-9 94769-7 95125-1 95410-7 95411-5 95416-4 95542-7 95825-6 95970-0 95971-8 ' +
    '95972-6 95973-4 96603-6 98069-8 98732-1 98733-9 98734-7 99596-9 99597-7 99771-8 99772-6 99773-4 ' +
    '99774-2'
  ).split(/\s+/),
)

/**
 * Ask-at-order-entry questions of the CDC ELR / HHS COVID-19 reporting guidance (employed in health care,
 * first test, hospitalized, ICU, congregate care, symptomatic, symptom onset, pregnancy, age, school...).
 */
const AOE_QUESTIONS = new Set(
  (
    '95417-2 95418-0 95419-8 95420-6 95421-4 77974-4 65222-2 11368-8 82810-3 30525-0 35659-2 ' +
    '76691-5 81959-9 85658-3 96130-0 95422-2 21612-7 11370-4'
  ).split(/\s+/),
)

export const LOINC_PATTERN = /^[0-9]{1,7}-[0-9]$/

export type ObservationKind = 'result' | 'question' | 'other'

/** Classify a LOINC code found in OBX-3 / Observation.code. */
export function classifyLoinc(code: string): ObservationKind {
  if (SARS_COV_2_TESTS.has(code)) return 'result'
  if (AOE_QUESTIONS.has(code)) return 'question'
  return 'other'
}
