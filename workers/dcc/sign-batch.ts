/**
 * Piscina task: sign a batch of DCC payloads into HC1 strings (DESIGN.md "Performance model": a task is a
 * batch, never one record). The key material travels with each task as PEM strings (cheap to clone) and
 * is parsed once per worker thread, cached by the material itself.
 *
 *   const pool = new Piscina({ filename: new URL('./sign-batch.ts', import.meta.url).href })
 *   const { hc1 } = await pool.run({ signer: material, iss: 'FR', items: [{ payload, iat, exp }] })
 */
import { loadSigner, type DccSigner, type SignerMaterial } from './keys.ts'
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

/** Parsed signers by their exact material (certificate + key), so a task never signs with a key it did not bring. */
const signers = new Map<string, DccSigner>()

export function signerFor (material: SignerMaterial): DccSigner {
  const cacheKey = material.certificatePem + '\u0000' + material.privateKeyPem
  let signer = signers.get(cacheKey)
  if (signer === undefined) {
    signer = loadSigner(material)
    if (signers.size >= 16) signers.clear() // rotation leaves a few old signers; keep the cache bounded
    signers.set(cacheKey, signer)
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
