/**
 * Phone numbers → E.164 (ITU-T E.164: '+', country code, national number, at most 15 digits), the
 * contract's `patient.phone`. Only when unambiguous:
 *  - an explicit country code: HL7 v2.5.1 XTN-5 (country code) + XTN-6 (area/city) + XTN-7 (local
 *    number), or text starting with '+' or the international prefix '00';
 *  - otherwise a national number whose country is known from the patient's address, for the numbering
 *    plans we can read without guessing: France (10 digits starting 0, metropolitan prefixes 01-07, 09)
 *    and the North American Numbering Plan (US, CA: 10 digits, or 11 starting with 1).
 * Anything else returns null with a reason; the parser then omits the phone and records a warning.
 */

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string }

const E164 = /^\+[1-9][0-9]{6,14}$/

function digits(s: string): string {
  return s.replace(/[^0-9]/g, '')
}

function check(candidate: string, raw: string): PhoneResult {
  return E164.test(candidate)
    ? { ok: true, e164: candidate }
    : { ok: false, reason: `'${raw}' does not make a valid E.164 number` }
}

/** From separate parts: country code, area code, local number (XTN-5, XTN-6, XTN-7). */
export function phoneFromParts(country: string, area: string, local: string): PhoneResult {
  const cc = digits(country)
  const rest = digits(area) + digits(local)
  if (!cc || !rest) return { ok: false, reason: 'country code or number missing' }
  return check(`+${cc}${rest}`, `${country} ${area} ${local}`)
}

/** From free text, with the patient's residence country (ISO alpha-2) as the only context allowed. */
export function phoneFromText(text: string, country: string | null): PhoneResult {
  const raw = text.trim()
  if (!raw) return { ok: false, reason: 'empty' }
  // Extensions and text after them cannot be part of an E.164 number.
  if (/[a-zA-Z]/.test(raw.replace(/^tel:/i, ''))) return { ok: false, reason: `'${raw}' is not a phone number` }
  const d = digits(raw)
  if (raw.startsWith('+')) return check(`+${d}`, raw)
  if (d.startsWith('00')) return check(`+${d.slice(2)}`, raw)
  if (country === 'FR' && /^0[1-79][0-9]{8}$/.test(d)) return check(`+33${d.slice(1)}`, raw)
  if ((country === 'US' || country === 'CA') && /^1?[2-9][0-9]{9}$/.test(d)) {
    return check(`+1${d.length === 11 ? d.slice(1) : d}`, raw)
  }
  return {
    ok: false,
    reason: `'${raw}' has no country code and its country (${country ?? 'unknown'}) does not make it unambiguous`,
  }
}
