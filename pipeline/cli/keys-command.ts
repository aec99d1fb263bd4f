/**
 * `sidep keys init [--rotate]`: the development DCC Document Signer under <dataDir>/dcc/ (an ES256 key,
 * mode 0600, and a self-signed DSC). Running it again keeps the existing signer; --rotate makes a new one
 * and moves the old certificate to <dataDir>/dcc/trusted/ so that what it signed keeps verifying (it stays
 * in GET /v1/trust-list). Production signers come from SIDEP_DCC_KEY_FILE / SIDEP_DCC_CERT_FILE instead.
 */
import { parseArgs } from 'node:util'
import { optionsFromEnv, parseConfig } from '../config.ts'
import { SidepError } from '../errors.ts'
import { initDevKeys, loadDccKeys } from '../keys/dcc-keys.ts'

export const KEYS_USAGE = 'sidep keys init [--rotate] | sidep keys list'

export async function keysCommand(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const config = parseConfig(optionsFromEnv())
  const { values, positionals } = parseArgs({ args, options: { rotate: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  const [verb] = positionals
  if (verb === 'init') {
    if (config.dccKeyFile) {
      throw new SidepError('USAGE', `SIDEP_DCC_KEY_FILE is set (${config.dccKeyFile}): production keys are managed outside sidep, 'keys init' makes development keys only`)
    }
    const r = await initDevKeys(config.dataDir, config.dccCountry, values.rotate)
    out.write(
      `${r.created ? 'created' : 'kept the existing'} DCC Document Signer (ES256, self-signed, for development) in ${r.directory}\n` +
        (r.retiredKid ? `previous signer ${r.retiredKid} moved to ${r.directory}/trusted/ (still in the trust list)\n` : '') +
        `kid ${r.kid}, valid until ${r.notAfter}\n`,
    )
    return
  }
  if (verb === 'list') {
    const keys = await loadDccKeys(config, { privateKey: false })
    for (const [i, t] of keys.trusted.entries()) {
      out.write(`${t.kid}\t${i === 0 ? 'active' : 'trusted'}\t${t.certificate.validFrom} .. ${t.certificate.validTo}\t${t.certificate.subject.replace(/\n/g, ', ')}\n`)
    }
    return
  }
  throw new SidepError('USAGE', `usage: ${KEYS_USAGE}`)
}
