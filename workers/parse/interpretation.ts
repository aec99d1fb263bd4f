/**
 * Interpretation codes that state the qualitative outcome of a numeric (serology) result, mapped to the
 * SNOMED CT result codes of the contract. HL7 v2 table 0078 (abnormal flags, OBX-8) and FHIR R4's
 * v3-ObservationInterpretation code system share these codes (the v3 system descends from table 0078).
 */
import { SNOMED_DETECTED, SNOMED_INCONCLUSIVE, SNOMED_NOT_DETECTED } from '../model/canonical.ts'

export const QUALITATIVE_INTERPRETATION: Readonly<Record<string, string>> = Object.freeze({
  POS: SNOMED_DETECTED,
  DET: SNOMED_DETECTED,
  NEG: SNOMED_NOT_DETECTED,
  ND: SNOMED_NOT_DETECTED,
  IND: SNOMED_INCONCLUSIVE,
})
