/**
 * French NIR ("numéro de sécurité sociale") / INS check.
 *
 * The INS (identité nationale de santé, ANS "Référentiel INS") carries as matricule the NIR, or for a
 * person still being registered the NIA (numéro d'identification d'attente), in the same 13-character
 * layout, followed by a 2-digit control key: 15 characters in all.
 *
 *   position 1      sex / kind: 1, 2 (NIR), 3, 4 (foreigners being registered), 7, 8 (NIA)
 *   positions 2-3   year of birth
 *   positions 4-5   month of birth (may be 20+ / 99 when unknown, so not checked as a month)
 *   positions 6-7   department of birth, 2A / 2B for Corsica (births from 1976), 99 abroad
 *   positions 8-13  commune (or country) and order number
 *   positions 14-15 key = 97 − (the 13-character number mod 97)
 *
 * Key rule for Corsica (CNAM / INSEE, "clé de contrôle du NIR"): before computing the key, 2A is
 * replaced by 19 and 2B by 18 (equivalently: A and B by 0, then subtract 1,000,000 or 2,000,000).
 * The 13-digit number is below 2^53, so plain Number arithmetic is exact.
 */

/** 13-character body + 2-digit key; only upper-case A/B (the INS is printed and transmitted so). */
const NIR_FORMAT = /^[123478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}[0-9]{2}$/

export type NirCheck = { ok: true } | { ok: false; reason: 'format' | 'key' }

/** The control key (1..97) of a 13-character NIR body that already has the right format. */
export function nirKey(body: string): number {
  const dept = body.slice(5, 7)
  const numeric = dept === '2A' ? body.slice(0, 5) + '19' + body.slice(7) : dept === '2B' ? body.slice(0, 5) + '18' + body.slice(7) : body
  return 97 - (Number(numeric) % 97)
}

/**
 * Check a 15-character INS/NIR: `format` when it is not 15 characters of the layout above, `key` when
 * the layout is right but the last two digits are not the control key (typo, transposed digits).
 */
export function checkNir(value: string): NirCheck {
  if (value.length !== 15 || !NIR_FORMAT.test(value)) return { ok: false, reason: 'format' }
  const key = Number(value.slice(13))
  return key === nirKey(value.slice(0, 13)) ? { ok: true } : { ok: false, reason: 'key' }
}

export function isValidNir(value: string): boolean {
  return checkNir(value).ok
}

/**
 * For parsers of formats where the INS arrives printed (HL7 PID-3, CSV): drop spaces, dots and
 * hyphens used as separators and upper-case 2a/2b. The JSON contract itself takes the bare form.
 */
export function compactNir(value: string): string {
  return value.replace(/[\s.\-]/g, '').toUpperCase()
}
