/**
 * Document Signer keys and certificates (DSC) for DCC signing.
 *
 * - kid (hcert spec §3.3.1, "Key Identifier"): the first 8 bytes of the SHA-256 of the DSC's DER.
 * - Algorithms (hcert spec §3.3.2): ES256 (ECDSA P-256 + SHA-256) primary, PS256 (RSASSA-PSS 2048+)
 *   secondary.
 * - Development: `generateDevSigner` makes an ES256 key and a self-signed DSC carrying the DCC extended key
 *   usage for test certificates (OID 1.3.6.1.4.1.1847.2021.1.1, EU DCC "Certificate Governance",
 *   §5.2.2.5); production loads a PEM key and a CSCA-issued DSC (`loadSignerFromFiles`).
 * Generation uses @peculiar/x509 (node:crypto cannot write certificates; node-forge has no ECDSA),
 * loaded lazily with its reflect-metadata polyfill so signing workers never load it; parsing and
 * signing use node:crypto (X509Certificate, KeyObject).
 */
import { X509Certificate, createHash, createPrivateKey, webcrypto, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DccError } from './errors.ts'

export type DccAlg = 'ES256' | 'PS256'

/** Extended key usage OIDs of DCC signers (EU DCC Certificate Governance §5.2.2.5). */
export const EKU_TEST_ISSUANCE = '1.3.6.1.4.1.1847.2021.1.1'
export const EKU_VACCINATION_ISSUANCE = '1.3.6.1.4.1.1847.2021.1.2'
export const EKU_RECOVERY_ISSUANCE = '1.3.6.1.4.1.1847.2021.1.3'

/** What a worker needs to sign; plain strings so it crosses a worker boundary by structured clone. */
export interface SignerMaterial {
  /** PKCS#8 (or SEC1 / PKCS#1) PEM private key */
  privateKeyPem: string
  /** PEM X.509 Document Signer Certificate */
  certificatePem: string
}

export interface DccSigner {
  alg: DccAlg
  /** 8 bytes, hcert §3.3.1 */
  kid: Buffer
  privateKey: KeyObject
  certificate: X509Certificate
  certificateDer: Buffer
  notBeforeMs: number
  notAfterMs: number
}

/** hcert spec §3.3.1: kid = first 8 bytes of SHA-256 over the DSC in DER. */
export function computeKid (certificateDer: Uint8Array): Buffer {
  return createHash('sha256').update(certificateDer).digest().subarray(0, 8)
}

/** Parse a certificate given as PEM, base64 DER, or DER bytes. Throws DccError DCC_BAD_KEY. */
export function parseCertificate (input: string | Uint8Array): X509Certificate {
  try {
    if (typeof input !== 'string') return new X509Certificate(input)
    if (input.includes('-----BEGIN')) return new X509Certificate(input)
    return new X509Certificate(Buffer.from(input.replace(/\s+/g, ''), 'base64'))
  } catch (err) {
    throw new DccError('DCC_BAD_KEY', 'not an X.509 certificate (PEM, base64 DER or DER expected)', { cause: err })
  }
}

/** The signature algorithm a public or private key implies (hcert §3.3.2). */
export function algForKey (key: KeyObject): DccAlg {
  const type = key.asymmetricKeyType
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  if (type === 'rsa' || type === 'rsa-pss') return 'PS256'
  throw new DccError('DCC_BAD_KEY', `unsupported key type ${type ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}: ES256 (P-256) or PS256 (RSA) expected`)
}

export function loadSigner (material: SignerMaterial): DccSigner {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(material.privateKeyPem)
  } catch (err) {
    throw new DccError('DCC_BAD_KEY', 'private key is not a PEM private key', { cause: err })
  }
  const certificate = parseCertificate(material.certificatePem)
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new DccError('DCC_BAD_KEY', 'private key does not match the signing certificate')
  }
  const certificateDer = certificate.raw
  return {
    alg: algForKey(privateKey),
    kid: computeKid(certificateDer),
    privateKey,
    certificate,
    certificateDer,
    notBeforeMs: Date.parse(certificate.validFrom),
    notAfterMs: Date.parse(certificate.validTo)
  }
}

export function loadSignerFromFiles (privateKeyPath: string, certificatePath: string): DccSigner {
  return loadSigner({
    privateKeyPem: readFileSync(privateKeyPath, 'utf8'),
    certificatePem: readFileSync(certificatePath, 'utf8')
  })
}

export interface DevSignerOptions {
  commonName?: string
  country?: string
  /** default 365 */
  validityDays?: number
  /** default now */
  notBefore?: Date
}

/**
 * ES256 key + self-signed DSC for development and tests (never for production: verifiers trust only
 * DSCs signed by a CSCA on the EU gateway).
 */
export async function generateDevSigner (options: DevSignerOptions = {}): Promise<{ signer: DccSigner, material: SignerMaterial }> {
  await import('reflect-metadata') // tsyringe, used by @peculiar/x509, needs the Reflect metadata API
  const x509 = await import('@peculiar/x509')
  const crypto = webcrypto as unknown as Crypto
  x509.cryptoProvider.set(crypto)
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const notBefore = options.notBefore ?? new Date()
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 365) * 86_400_000)
  const cn = (options.commonName ?? 'sidep DEV Document Signer').replace(/[,=+<>#;"\\]/g, ' ')
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${cn}, C=${options.country ?? 'FR'}`,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EKU_TEST_ISSUANCE]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  }, crypto)
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const material: SignerMaterial = {
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`,
    certificatePem: cert.toString('pem') + '\n'
  }
  return { signer: loadSigner(material), material }
}
