/**
 * Validation of a DCC payload against the official combined JSON Schema (eu-dcc-schema 1.3.3,
 * draft 2020-12), shipped in data/dcc/DCC.combined-schema.json, compiled once per process.
 * The schema's `valueset-uri` annotations are declared as keywords (no validation: value set membership
 * is a business rule, eu-dcc-schema FAQ "Postel's law"); `date` / `date-time` formats come from ajv-formats.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

export const DCC_SCHEMA: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../data/dcc/DCC.combined-schema.json', import.meta.url), 'utf8')
) as Record<string, unknown>

// strictRequired/strictTypes off: the official schema puts `required` in oneOf/anyOf branches whose
// properties are declared at the parent, valid JSON Schema that Ajv's strict mode flags.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false })
addFormats(ajv)
ajv.addKeyword('valueset-uri')
const validate = ajv.compile(DCC_SCHEMA)

export interface SchemaOutcome { valid: boolean, errors: string[] }

export function validateDccPayload (payload: unknown): SchemaOutcome {
  if (validate(payload)) return { valid: true, errors: [] }
  return { valid: false, errors: (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`) }
}
