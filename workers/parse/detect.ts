/**
 * Which lab format a file or body is, from its content alone (for `sidep submit <file>` and bodies sent
 * without a precise Content-Type):
 *  - HL7 v2: the first segment is MSH, or a batch header FHS / BHS (HL7 v2.5.1 2.10.3), possibly after a
 *    byte order mark, white space or the MLLP start byte 0x0B;
 *  - FHIR: a JSON object whose top-level resourceType is "Bundle";
 *  - JSON: any other JSON object or array (the lab JSON contract);
 *  - CSV otherwise.
 */
export type LabFormat = 'hl7v2' | 'fhir' | 'json' | 'csv'

export function detectFormat(body: string | Uint8Array): LabFormat {
  const head = (typeof body === 'string' ? body.slice(0, 4096) : Buffer.from(body.subarray(0, 4096)).toString('utf8'))
    .replace(/^\uFEFF/, '')
    .replace(/^[\s\x0b]+/, '')
  if (/^(MSH|FHS|BHS)[^A-Za-z0-9\s]/.test(head)) return 'hl7v2'
  if (head.startsWith('[')) return 'json'
  if (head.startsWith('{')) {
    // Parse when small enough to be sure; otherwise look for the top-level resourceType near the start
    // (FHIR JSON puts resourceType first, FHIR R4 Appendix "JSON representation").
    if (typeof body === 'string' ? body.length < 1 << 20 : body.length < 1 << 20) {
      try {
        const v = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as { resourceType?: unknown }
        return v && v.resourceType === 'Bundle' ? 'fhir' : 'json'
      } catch {
        // not valid JSON: let the JSON parser report it
        return /^\{\s*"resourceType"\s*:\s*"Bundle"/.test(head) ? 'fhir' : 'json'
      }
    }
    return /^\{\s*"resourceType"\s*:\s*"Bundle"/.test(head) ? 'fhir' : 'json'
  }
  return 'csv'
}
