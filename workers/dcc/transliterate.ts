/**
 * ICAO Doc 9303 Part 3 (7th ed., §6 "Transliterations recommended for use by States") name
 * standardisation, as the DCC schema requires for `nam.fnt` / `nam.gnt` (eu-dcc-schema, person_name:
 * pattern ^[A-Z<]*$, maxLength 80).
 *
 * Hand-written on purpose: the maintained npm transliterators (any-ascii, transliteration,
 * @sindresorhus/transliterate) target generic ASCII slugs and disagree with ICAO on exactly the letters
 * that matter (ICAO: Ä→AE, Ö→OE, Ü→UE, Å→AA, Ø→OE, Þ→TH; they give A, O, U, A, O, TH/Þ), and the npm MRZ
 * packages parse MRZs but do not expose the transliteration. The ICAO table is short and fixed.
 *
 * Rules (Doc 9303 Part 3 §6 Table A for Latin letters, Table B for Cyrillic, ELOT 743 for Greek;
 * Part 4 §4.6 for punctuation in names):
 * - letters listed in TABLE map to their ICAO digraphs; other accented Latin letters lose their
 *   diacritics (Unicode NFD, combining marks removed): É→E, Ç→C, Ñ→N, Č→C;
 * - spaces, hyphens and commas become the filler '<'; apostrophes and other punctuation are omitted
 *   (D'ARTAGNAN → DARTAGNAN); digits are omitted;
 * - runs of fillers collapse to one and leading/trailing fillers are dropped;
 * - the result is truncated to the schema's 80 characters.
 */

const TABLE: Record<string, string> = {
  // Doc 9303 Part 3 §6 Table A: multinational Latin-based characters with a specific transliteration
  Ä: 'AE', Å: 'AA', Æ: 'AE', Ö: 'OE', Ø: 'OE', Ü: 'UE', ß: 'SS', ẞ: 'SS', Þ: 'TH', Œ: 'OE', Ĳ: 'IJ',
  Ð: 'D', Đ: 'D', Ħ: 'H', Ł: 'L', Ŀ: 'L', Ŋ: 'N', ı: 'I', ĸ: 'K',
  // Doc 9303 Part 3 §6 Table B: Cyrillic
  А: 'A', Б: 'B', В: 'V', Г: 'G', Ґ: 'G', Ѓ: 'G', Д: 'D', Ђ: 'D', Е: 'E', Ё: 'E', Є: 'IE', Ж: 'ZH',
  З: 'Z', Ѕ: 'DZ', И: 'I', І: 'I', Ї: 'I', Й: 'I', Ј: 'J', К: 'K', Ќ: 'K', Л: 'L', Љ: 'LJ', М: 'M',
  Н: 'N', Њ: 'NJ', О: 'O', П: 'P', Р: 'R', С: 'S', Т: 'T', Ћ: 'C', У: 'U', Ў: 'U', Ф: 'F', Х: 'KH',
  Ц: 'TS', Ч: 'CH', Џ: 'DZ', Ш: 'SH', Щ: 'SHCH', Ъ: 'IE', Ы: 'Y', Ь: '', Э: 'E', Ю: 'IU', Я: 'IA',
  // Greek: Doc 9303 has no Greek table; Greece's passports use ELOT 743 (letter by letter form)
  Α: 'A', Β: 'V', Γ: 'G', Δ: 'D', Ε: 'E', Ζ: 'Z', Η: 'I', Θ: 'TH', Ι: 'I', Κ: 'K', Λ: 'L', Μ: 'M',
  Ν: 'N', Ξ: 'X', Ο: 'O', Π: 'P', Ρ: 'R', Σ: 'S', Τ: 'T', Υ: 'Y', Φ: 'F', Χ: 'CH', Ψ: 'PS', Ω: 'O'
}

/** Characters turned into the filler '<' (Doc 9303 Part 4 §4.6: spaces, hyphens, commas). */
const FILLER_SOURCES = new Set([' ', '-', ',', '\u2010', '\u2011', '\u2013', '\u00A0', '\t'])

export const ICAO_MAX_LENGTH = 80

/** Standardise one name field ("Dupont-Lefèvre" → "DUPONT<LEFEVRE"). Returns '' when nothing is left. */
export function icaoTransliterate (name: string): string {
  let out = ''
  for (const ch of name.toUpperCase()) {
    if (ch >= 'A' && ch <= 'Z') { out += ch; continue }
    if (FILLER_SOURCES.has(ch)) { out += '<'; continue }
    const mapped = TABLE[ch]
    if (mapped !== undefined) { out += mapped; continue }
    // Decompose and keep the base letters: drops accents (É → E, Έ → Ε → E), apostrophes, digits, signs.
    for (const base of ch.normalize('NFD')) {
      if (base >= 'A' && base <= 'Z') out += base
      else out += TABLE[base] ?? ''
    }
  }
  out = out.replace(/<{2,}/g, '<').replace(/^<+|<+$/g, '')
  return out.length > ICAO_MAX_LENGTH ? out.slice(0, ICAO_MAX_LENGTH).replace(/<+$/, '') : out
}
