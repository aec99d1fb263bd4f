/**
 * Stable machine codes of the itemised validation errors (DESIGN.md "Privacy and security": bad input
 * gets a clear, itemised error with code, field path and message).
 *
 * The codes are a public contract: labs branch on them and the processor uses them as metric labels,
 * so a code is never renamed or reused for another meaning; new codes are appended.
 */
export const ERROR_CODES = [
  // structure (JSON Schema workers/schemas/result.schema.json)
  'REQUIRED',
  'INVALID_TYPE',
  'INVALID_FORMAT',
  'INVALID_VALUE',
  'UNKNOWN_FIELD',
  'TOO_LONG',
  // test and outcome (loinc.ts)
  'UNKNOWN_LOINC',
  'RESULT_NOT_VALID_FOR_TEST',
  'VALUE_NOT_ALLOWED',
  // instants (dates.ts)
  'DATE_BEFORE_2020',
  'SAMPLED_AFTER_RESULTED',
  'SAMPLED_IN_FUTURE',
  'RESULTED_IN_FUTURE',
  // birth date (dates.ts)
  'INVALID_BIRTH_DATE',
  'IMPLAUSIBLE_BIRTH_DATE',
  // national health identifier (nir.ts)
  'INVALID_NIR_FORMAT',
  'INVALID_NIR_KEY',
  // residence (geo.ts)
  'UNKNOWN_POSTCODE',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]
