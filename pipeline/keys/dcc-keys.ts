/**
 * The DCC Document Signer (issue 5): the key that signs certificates and the certificates published in the
 * trust list, kept outside the databases like the pseudonym keys (key-store.ts).
 *
 * - Production: SIDEP_DCC_KEY_FILE (PEM private key) + SIDEP_DCC_CERT_FILE (PEM DSC issued by the national
 *   CSCA and uploaded to the EU DCC gateway). An HSM-held key is a deployment option documented in the
 *   README (the key file is then the HSM's PEM stub / the signer is swapped in sign-batch).
 * - Development: `<dataDir>/dcc/signer.key.pem` (0600) + `signer.cert.pem`, an ES256 key and a self-signed
 *   DSC, created by `sidep keys init` or on the first start when nothing is configured.
 * - Rotation: every certificate in `<dataDir>/dcc/trusted/*.pem` and in the SIDEP_DCC_TRUSTED_CERTS files
 *   stays in the trust list beside the active one, so certificates signed by the previous DSC keep
 *   verifying until they expire (`sidep keys init --rotate` moves the old DSC there).
 */
import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SidepConfig } from '../config.ts'
import { SidepError } from '../errors.ts'
import { computeKid, generateDevSigner, loadSigner, type DccSigner, type SignerMaterial } from '../../workers/dcc/keys.ts'
import { TrustStore } from '../../workers/dcc/verify.ts'

export interface TrustedCertificate {
  /** base64 kid (first 8 bytes of SHA-256 of the DER, hcert §3.3.1) */
  kid: string
  certificate: X509Certificate
}

export interface DccKeys {
  source: 'files' | 'dev'
  /** the active signer's PEM material (crosses to the signing workers); null when loaded for verification only */
  material: SignerMaterial | null
  signer: DccSigner | null
  /** the active certificate first, then the other published ones */
  trusted: readonly TrustedCertificate[]
  trustStore: TrustStore
}

export type DccKeyCode = 'DCC_KEYS_MISSING' | 'DCC_KEYS_INVALID'

export class DccKeyError extends SidepError {
  constructor(code: DccKeyCode, message: string, cause?: unknown) {
    super(code, message, { cause })
  }
}

export function dccDir(dataDir: string): string {
  return join(dataDir, 'dcc')
}

function devPaths(dataDir: string): { dir: string; key: string; cert: string; trusted: string } {
  const dir = dccDir(dataDir)
  return { dir, key: join(dir, 'signer.key.pem'), cert: join(dir, 'signer.cert.pem'), trusted: join(dir, 'trusted') }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Every certificate of a PEM file (a bundle may hold several). */
export function certificatesInPem(pem: string, file: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? []
  if (blocks.length === 0) throw new DccKeyError('DCC_KEYS_INVALID', `${file} holds no PEM certificate`)
  return blocks.map((b) => {
    try {
      return new X509Certificate(b)
    } catch (err) {
      throw new DccKeyError('DCC_KEYS_INVALID', `${file}: not a readable X.509 certificate`, err)
    }
  })
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

async function pemFilesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.pem')).sort().map((f) => join(dir, f))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

function toTrusted(certs: X509Certificate[]): TrustedCertificate[] {
  const seen = new Set<string>()
  const out: TrustedCertificate[] = []
  for (const certificate of certs) {
    const fingerprint = certificate.fingerprint256
    if (seen.has(fingerprint)) continue
    seen.add(fingerprint)
    out.push({ kid: computeKid(certificate.raw).toString('base64'), certificate })
  }
  return out
}

function signerOf(material: SignerMaterial, where: string): DccSigner {
  try {
    return loadSigner(material)
  } catch (err) {
    throw new DccKeyError('DCC_KEYS_INVALID', `${where}: ${(err as Error).message}`, err)
  }
}

/** Development signer: a fresh ES256 key + self-signed DSC, written atomically (a racing process keeps the first). */
async function createDevKeys(dataDir: string, country: string): Promise<void> {
  const p = devPaths(dataDir)
  const { material } = await generateDevSigner({ country, commonName: `sidep DEV Document Signer ${country}` })
  await mkdir(dataDir, { recursive: true })
  const tmp = `${p.dir}.${process.pid}.${Date.now()}.tmp`
  await mkdir(tmp, { recursive: true, mode: 0o700 })
  await writeFile(join(tmp, 'signer.key.pem'), material.privateKeyPem, { mode: 0o600 })
  await writeFile(join(tmp, 'signer.cert.pem'), material.certificatePem, { mode: 0o644 })
  try {
    await rename(tmp, p.dir) // fails when dcc/ exists: another process won, or dcc/ holds only trusted/
  } catch {
    await rm(tmp, { recursive: true, force: true })
    if ((await readOptional(p.cert)) === null) {
      await mkdir(p.dir, { recursive: true, mode: 0o700 })
      await writeFile(p.key, material.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch(() => {})
      await writeFile(p.cert, material.certificatePem, { mode: 0o644, flag: 'wx' }).catch(() => {})
    }
  }
}

export interface LoadDccOptions {
  /** create development keys when none are configured and none exist (platform start, `keys init`) */
  create?: boolean
  /** load the private key too (certifier); false → trust list only (gateway, `dcc verify`) */
  privateKey?: boolean
}

export async function loadDccKeys(
  config: Pick<SidepConfig, 'dataDir' | 'dccKeyFile' | 'dccCertFile' | 'dccTrustedCerts' | 'dccCountry'>,
  options: LoadDccOptions = {},
): Promise<DccKeys> {
  const wantKey = options.privateKey ?? true
  let source: DccKeys['source']
  let keyPath: string
  let certPath: string
  const extraFiles = [...config.dccTrustedCerts]
  if (config.dccKeyFile && config.dccCertFile) {
    source = 'files'
    keyPath = config.dccKeyFile
    certPath = config.dccCertFile
  } else {
    source = 'dev'
    const p = devPaths(config.dataDir)
    keyPath = p.key
    certPath = p.cert
    if (options.create && (await readOptional(p.cert)) === null) await createDevKeys(config.dataDir, config.dccCountry)
    extraFiles.push(...(await pemFilesIn(p.trusted)))
  }
  const certificatePem = await readOptional(certPath)
  if (certificatePem === null) {
    throw new DccKeyError('DCC_KEYS_MISSING', `no DCC signing certificate at ${certPath}: run 'sidep keys init' or set SIDEP_DCC_KEY_FILE and SIDEP_DCC_CERT_FILE`)
  }
  let material: SignerMaterial | null = null
  let signer: DccSigner | null = null
  if (wantKey) {
    const privateKeyPem = await readOptional(keyPath)
    if (privateKeyPem === null) throw new DccKeyError('DCC_KEYS_MISSING', `no DCC signing key at ${keyPath}`)
    material = { privateKeyPem, certificatePem }
    signer = signerOf(material, certPath)
  }
  const certs = certificatesInPem(certificatePem, certPath).slice(0, 1) // the DSC itself, not its chain
  for (const file of extraFiles) {
    const pem = await readOptional(file)
    if (pem === null) throw new DccKeyError('DCC_KEYS_MISSING', `trusted certificate file ${file} does not exist`)
    certs.push(...certificatesInPem(pem, file))
  }
  const trusted = toTrusted(certs)
  return { source, material, signer, trusted, trustStore: new TrustStore(trusted.map((t) => ({ kid: t.kid, certificate: t.certificate.raw }))) }
}

export interface InitOutcome {
  created: boolean
  kid: string
  directory: string
  /** kid of the DSC moved to trusted/ by a rotation */
  retiredKid?: string
  notAfter: string
}

/**
 * `sidep keys init`: development signer under <dataDir>/dcc/. Without `rotate` an existing signer is kept
 * (running it again is harmless); with `rotate` a new signer replaces it and the old certificate moves to
 * trusted/ so that what it signed keeps verifying.
 */
export async function initDevKeys(dataDir: string, country: string, rotate = false): Promise<InitOutcome> {
  const p = devPaths(dataDir)
  const existing = await readOptional(p.cert)
  let retiredKid: string | undefined
  if (existing !== null && rotate) {
    const old = certificatesInPem(existing, p.cert)[0]
    retiredKid = computeKid(old.raw).toString('base64')
    await mkdir(p.trusted, { recursive: true, mode: 0o700 })
    const name = `${old.fingerprint256.replaceAll(':', '').slice(0, 16).toLowerCase()}.pem`
    await writeFile(join(p.trusted, name), existing, { mode: 0o644 })
    const { material } = await generateDevSigner({ country, commonName: `sidep DEV Document Signer ${country}` })
    await writeFile(`${p.key}.tmp`, material.privateKeyPem, { mode: 0o600 })
    await writeFile(`${p.cert}.tmp`, material.certificatePem, { mode: 0o644 })
    await rename(`${p.key}.tmp`, p.key)
    await rename(`${p.cert}.tmp`, p.cert)
  } else if (existing === null) {
    await createDevKeys(dataDir, country)
  }
  const keys = await loadDccKeys({ dataDir, dccKeyFile: null, dccCertFile: null, dccTrustedCerts: [], dccCountry: country })
  const signer = keys.signer!
  return {
    created: existing === null || rotate,
    kid: signer.kid.toString('base64'),
    directory: p.dir,
    retiredKid,
    notAfter: new Date(signer.notAfterMs).toISOString(),
  }
}
