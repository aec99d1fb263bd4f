/**
 * CSV bulk upload (small sites: pharmacies, nurses, schools) → items of the lab JSON contract, streamed.
 *
 * The template is `results-template.csv` (served at GET /v1/templates/results.csv): one header line,
 * one result per row. Rules, documented for labs:
 *  - delimiter ',' or ';' (French spreadsheets save with ';'), detected from the header line; UTF-8,
 *    a byte order mark is ignored; fields may be quoted with '"', and quoted fields may hold the
 *    delimiter, '""' and line breaks (RFC 4180);
 *  - header names are the template's (case and surrounding spaces ignored), in any order; optional
 *    columns may be left out, unknown columns are refused; a wrong header is one error and no row is read;
 *  - `given`: given names separated by spaces ("Marie Anne"); when one given name itself holds a space,
 *    separate the names with '|' instead ("Anne Sophie|Marie");
 *  - `value`: a number, '.' or ',' as decimal mark;
 *  - everything else is taken as written (dates ISO 8601, codes as in the JSON contract) and checked
 *    by the validator;
 *  - row numbers are those a spreadsheet shows: the header is row 1, the first result row 2 (a quoted
 *    line break does not start a new row).
 * Parsing is csv-parse (npm, MIT) in streaming mode: rows are read from the Readable as they are
 * consumed, and handed out in batches, so a 100,000-row upload never sits in memory at once.
 */
import { parse } from 'csv-parse'
import type { CsvError } from 'csv-parse'
import { Readable } from 'node:stream'
import { compact, ParseErrorCode as C } from './types.ts'
import type { ParsedItem, ParseError, ParseOutput } from './types.ts'

/** Template columns, in template order. */
export const CSV_COLUMNS = [
  'accession', 'loinc', 'result', 'value', 'unit', 'status', 'sampledAt', 'resultedAt', 'specimen', 'device',
  'orderId', 'ins', 'family', 'given', 'birthDate', 'sex', 'addressLine', 'postcode', 'city', 'country', 'phone',
  'email', 'prescriberId', 'prescriberIdType', 'prescriberFamily', 'prescriberGiven',
] as const
export type CsvColumn = (typeof CSV_COLUMNS)[number]
/** Columns that must be in the header (the contract's required fields). */
export const CSV_REQUIRED_COLUMNS: readonly CsvColumn[] = ['accession', 'loinc', 'result', 'status', 'sampledAt', 'resultedAt', 'family', 'given', 'birthDate', 'sex']

export interface CsvParseOptions {
  /** Rows per yielded batch (default 500). */
  batchSize?: number
}

const BY_LOWER = new Map<string, CsvColumn>(CSV_COLUMNS.map((c) => [c.toLowerCase(), c]))

/** ',' or ';': whichever occurs more often outside quotes in the header line (',' on a tie). */
export function detectDelimiter(headerLine: string): ',' | ';' {
  let commas = 0, semis = 0, quoted = false
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted
    else if (!quoted && ch === ',') commas++
    else if (!quoted && ch === ';') semis++
  }
  return semis > commas ? ';' : ','
}

function checkHeader(names: string[]): { columns: CsvColumn[] } | { error: string } {
  const columns: CsvColumn[] = []
  const unknown: string[] = []
  for (const raw of names) {
    const c = BY_LOWER.get(raw.trim().replace(/^\uFEFF/, '').toLowerCase())
    if (c) columns.push(c)
    else unknown.push(raw.trim() || '(empty)')
  }
  const missing = CSV_REQUIRED_COLUMNS.filter((c) => !columns.includes(c))
  const dup = columns.filter((c, i) => columns.indexOf(c) !== i)
  if (unknown.length || missing.length || dup.length) {
    const parts: string[] = []
    if (unknown.length) parts.push(`unknown column(s) ${unknown.map((u) => `'${u}'`).join(', ')}`)
    if (missing.length) parts.push(`missing required column(s) ${missing.join(', ')}`)
    if (dup.length) parts.push(`repeated column(s) ${[...new Set(dup)].join(', ')}`)
    return { error: `the header line is not the results template: ${parts.join('; ')}. Expected: ${CSV_COLUMNS.join(',')}` }
  }
  return { columns }
}

function rowToItem(columns: CsvColumn[], record: string[], row: number, errors: Array<Omit<ParseError, 'index'>>): Record<string, unknown> {
  const v: Partial<Record<CsvColumn, string>> = {}
  columns.forEach((c, i) => {
    const s = (record[i] ?? '').trim()
    if (s) v[c] = s
  })
  let value: number | undefined
  if (v.value !== undefined) {
    const norm = v.value.replace(',', '.')
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(norm)) value = Number(norm)
    else errors.push({ code: C.DATA_TYPE, field: `row ${row} column value`, message: `row ${row}: value '${v.value}' is not a number` })
  }
  const given = v.given === undefined ? undefined : (v.given.includes('|') ? v.given.split('|') : v.given.split(/\s+/)).map((g) => g.trim()).filter(Boolean)
  return compact({
    accession: v.accession,
    loinc: v.loinc,
    result: v.result,
    value,
    unit: v.unit,
    status: v.status,
    sampledAt: v.sampledAt,
    resultedAt: v.resultedAt,
    specimen: v.specimen,
    device: v.device,
    orderId: v.orderId,
    patient: {
      ins: v.ins,
      family: v.family,
      given,
      birthDate: v.birthDate,
      sex: v.sex,
      // a spreadsheet cell may hold a multi-line address (quoted line breaks); the contract's address line
      // is one line, so the lines are joined the way a French postal address is written on one line
      address: { line: v.addressLine?.replace(/\s*(?:\r\n|\r|\n)+\s*/g, ', '), postcode: v.postcode, city: v.city, country: v.country },
      phone: v.phone,
      email: v.email,
    },
    prescriber: { id: v.prescriberId, idType: v.prescriberIdType, family: v.prescriberFamily, given: v.prescriberGiven },
  })
}

/** Read chunks until the first line break (outside quotes is not needed: a header has no quoted breaks). */
async function peekHeader(it: AsyncIterator<Buffer | string>): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = []
  let size = 0
  for (;;) {
    const r = await it.next()
    if (r.done) return { head: Buffer.concat(parts), done: true }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value)
    parts.push(b)
    size += b.length
    if (b.includes(0x0a) || b.includes(0x0d) || size > 1 << 20) return { head: Buffer.concat(parts), done: false }
  }
}

/**
 * Stream a CSV upload: yields ParseOutput batches (items and errors, indices continuing across batches).
 * Index = row − 2 (the first result row is index 0), so indices match the spreadsheet rows one to one.
 */
export async function* parseCsvStream(
  source: Readable | AsyncIterable<Buffer | string>,
  options: CsvParseOptions = {},
): AsyncGenerator<ParseOutput, void, undefined> {
  const batchSize = options.batchSize ?? 500
  const it = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
  const { head, done } = await peekHeader(it)
  const text = head.toString('utf8').replace(/^\uFEFF/, '')
  const firstLine = text.split(/\r\n|\r|\n/)[0] ?? ''
  if (firstLine.trim() === '') {
    yield { items: [], errors: [{ index: 0, code: C.BAD_HEADER, field: 'row 1', message: 'the upload is empty: the first line must be the results template header' }] }
    return
  }
  const delimiter = detectDelimiter(firstLine)

  // Put the peeked bytes back in front of the rest of the stream.
  async function* rest(): AsyncGenerator<Buffer> {
    yield head
    if (done) return
    for (;;) {
      const r = await it.next()
      if (r.done) return
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value
    }
  }

  // relax_column_count: rows with too many or too few fields still come through (and are counted), so
  // that the row numbers stay right and such a row gets its own error instead of stopping the upload.
  const parser = Readable.from(rest()).pipe(
    parse({ bom: true, delimiter, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  )

  let columns: CsvColumn[] | null = null
  let batch: ParseOutput = { items: [], errors: [] }
  let lastRow = 1

  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { records: number; lines: number } }>) {
      if (columns === null) {
        const h = checkHeader(rec.record)
        if ('error' in h) {
          parser.destroy()
          yield { items: [], errors: [{ index: 0, code: C.BAD_HEADER, field: 'row 1', message: h.error }] }
          return
        }
        columns = h.columns
        continue
      }
      const row = rec.info.records
      lastRow = row
      const index = row - 2
      const rowErrors: Array<Omit<ParseError, 'index'>> = []
      if (rec.record.length !== columns.length) {
        rowErrors.push({
          code: C.SYNTAX,
          field: `row ${row}`,
          message: `row ${row}: has ${rec.record.length} fields, the header has ${columns.length} (delimiter '${delimiter}')`,
        })
      }
      const item = rowErrors.length ? {} : rowToItem(columns, rec.record, row, rowErrors)
      if (rowErrors.length) for (const e of rowErrors) batch.errors.push({ index, ...e })
      else batch.items.push({ index, item, source: `row ${row}` } satisfies ParsedItem)
      if (batch.items.length + batch.errors.length >= batchSize) {
        yield batch
        batch = { items: [], errors: [] }
      }
    }
  } catch (err) {
    // Unrecoverable syntax (e.g. a quote never closed): report it at the row where reading stopped.
    const e = err as CsvError & { records?: number; lines?: number }
    const row = lastRow + 1
    batch.errors.push({
      index: row - 2,
      code: C.SYNTAX,
      field: `row ${row}`,
      message: `row ${row}${e.lines ? ` (line ${e.lines})` : ''}: ${e.message}; reading stopped here`,
    })
  }
  if (columns === null && batch.errors.length === 0) {
    batch.errors.push({ index: 0, code: C.BAD_HEADER, field: 'row 1', message: 'no header line' })
  }
  if (batch.items.length || batch.errors.length) yield batch
}

/** Whole-body convenience for small uploads (HTTP bodies already in memory, tests). */
export async function parseCsv(input: string | Uint8Array, options: CsvParseOptions = {}): Promise<ParseOutput> {
  const out: ParseOutput = { items: [], errors: [] }
  for await (const b of parseCsvStream(Readable.from([typeof input === 'string' ? Buffer.from(input) : Buffer.from(input)]), options)) {
    out.items.push(...b.items)
    out.errors.push(...b.errors)
  }
  return out
}
