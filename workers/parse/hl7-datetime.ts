/**
 * HL7 v2.5.1 date/time values → ISO 8601 strings of the contract.
 *
 * TS / DTM (HL7 v2.5.1 chapter 2A, 2.A.74 TS and 2.A.22 DTM): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
 * The contract needs an instant with an explicit offset (sampledAt, resultedAt) and a calendar date
 * (birthDate), so:
 *  - a date-time needs at least minute precision (a bare date is not when a swab was taken);
 *  - the offset is kept as sent ('+0000' → '+00:00', never rewritten to another zone);
 *  - no offset: 2.A.74 says the time is then in the sender's local time zone. sidep is a French
 *    platform, so the default is Europe/Paris (summer/winter time applied for that wall-clock time),
 *    configurable with `defaultTimeZone`; the parser notes it in a warning.
 */

export type DateResult = { ok: true; value: string; assumedZone?: string } | { ok: false; reason: string }

const TS = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/
const DT = /^(\d{4})(\d{2})(\d{2})/

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function realDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>()

/** Offset in minutes of `timeZone` at instant `utcMs` (e.g. +60 for Paris in winter). */
function offsetMinutes(timeZone: string, utcMs: number): number {
  let f = offsetFormatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    offsetFormatters.set(timeZone, f)
  }
  const name = f.formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name)
  if (!m) return 0
  const v = Number(m[2]) * 60 + Number(m[3])
  return m[1] === '-' ? -v : v
}

/** The offset ('+01:00') of a wall-clock time in `timeZone`. */
export function zoneOffsetFor(timeZone: string, y: number, mo: number, d: number, h: number, mi: number, s: number): string {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s)
  let off = offsetMinutes(timeZone, wall)
  const second = offsetMinutes(timeZone, wall - off * 60_000)
  if (second !== off) off = second
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
}

/** HL7 TS/DTM → 'YYYY-MM-DDTHH:MM:SS[.f]±HH:MM'. */
export function hl7DateTimeToIso(raw: string, defaultTimeZone = 'Europe/Paris'): DateResult {
  const v = raw.trim()
  const m = TS.exec(v)
  if (!m) {
    if (/^\d{8}$/.test(v) || /^\d{10}$/.test(v)) {
      return { ok: false, reason: `'${v}' has no time of day (at least YYYYMMDDHHMM is needed)` }
    }
    return { ok: false, reason: `'${v}' is not an HL7 date/time (YYYYMMDDHHMM[SS[.SSSS]][+/-ZZZZ])` }
  }
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m
  const y = Number(ys), mo = Number(mos), d = Number(ds), h = Number(hs), mi = Number(mis), s = Number(ss ?? '0')
  if (!realDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return { ok: false, reason: `'${v}' is not a real date/time` }
  const base = `${ys}-${mos}-${ds}T${hs}:${mis}:${ss ?? '00'}${frac ?? ''}`
  if (zone) {
    const zh = Number(zone.slice(1, 3)), zm = Number(zone.slice(3, 5))
    if (zh > 14 || zm > 59) return { ok: false, reason: `'${v}' has an impossible UTC offset ${zone}` }
    return { ok: true, value: `${base}${zone.slice(0, 3)}:${zone.slice(3)}` }
  }
  return { ok: true, value: base + zoneOffsetFor(defaultTimeZone, y, mo, d, h, mi, s), assumedZone: defaultTimeZone }
}

/** HL7 DT/TS used as a date of birth → 'YYYY-MM-DD' (a time part, if any, is dropped). */
export function hl7DateToIso(raw: string): DateResult {
  const v = raw.trim()
  const m = DT.exec(v)
  if (!m || !/^\d{8}(\d{2,6}(\.\d{1,4})?)?([+-]\d{4})?$/.test(v)) {
    return { ok: false, reason: `'${v}' is not an HL7 date (YYYYMMDD)` }
  }
  const [, ys, mos, ds] = m
  if (!realDate(Number(ys), Number(mos), Number(ds))) return { ok: false, reason: `'${v}' is not a real date` }
  return { ok: true, value: `${ys}-${mos}-${ds}` }
}
