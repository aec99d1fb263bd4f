/**
 * Piscina task: sign a batch of DCC payloads into HC1 strings (DESIGN.md "Performance model": a task is a
 * batch, never one record). The key material travels with each task as PEM strings (cheap to clone) and
 * is parsed once per worker thread, cached by the certificate's kid.
 *
 *   const pool = new Piscina({ filename: new URL('./sign-batch.ts', import.meta.url).href })
 *   const { hc1 } = await pool.run({ signer: material, iss: 'FR', items: [{ payload, iat, exp }] })
 */
import { computeKid, loadSigner, parseCertificate, type DccSigner, type SignerMaterial } from './keys.ts'
import { signPayload } from './issue.ts'

export interface SignBatchItem {
  payload: unknown
  /** seconds since the epoch */
  iat: number
  /** seconds since the epoch */
  exp: number
}

export interface SignBatchTask {
  signer: SignerMaterial
  /** CWT iss, ISO 3166-1 alpha-2 */
  iss: string
  items: SignBatchItem[]
}

export interface SignBatchResult {
  /** base64 kid of the signing certificate */
  kid: string
  /** one "HC1:" string per item, same order */
  hc1: string[]
}

const signers = new Map<string, DccSigner>()
/** PEM text → kid, so a repeated task does not even re-parse the certificate */
const kidByPem = new Map<string, string>()

export function signerFor (material: SignerMaterial): DccSigner {
  let kid = kidByPem.get(material.certificatePem)
  if (kid === undefined) {
    kid = computeKid(parseCertificate(material.certificatePem).raw).toString('base64')
    kidByPem.set(material.certificatePem, kid)
  }
  let signer = signers.get(kid)
  if (signer === undefined) {
    signer = loadSigner(material)
    signers.set(kid, signer)
  }
  return signer
}

export function signBatch (task: SignBatchTask): SignBatchResult {
  const signer = signerFor(task.signer)
  const out = new Array<string>(task.items.length)
  const claims = { iss: task.iss, iat: 0, exp: 0 }
  for (let i = 0; i < task.items.length; i++) {
    const item = task.items[i]!
    claims.iat = item.iat
    claims.exp = item.exp
    out[i] = signPayload(item.payload, claims, signer)
  }
  return { kid: signer.kid.toString('base64'), hc1: out }
}

export default signBatch
