/**
 * The platform's secret keys, kept outside the databases (DESIGN.md, "Privacy and security"): the pseudonym
 * key (keyed BLAKE2b), the sealing key for contact fields (crypto_secretbox) and the key that authenticates
 * the gateway's INGEST envelopes to the processor (keyed BLAKE2b, workers/envelope.ts). Created on first start in
 * `<dataDir>/keys/keys.json` (mode 0600). Each key has an id stored beside what it produced, and the file
 * keeps retired keys so that rotation (`active` moves to a new id) never orphans sealed data.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { createHmac, randomBytes } from 'node:crypto'
import { join } from 'node:path'

export interface KeyRing {
  active: string
  keys: Record<string, string> // id → base64 32-byte key
}

export interface KeyFile {
  pseudonym: KeyRing
  seal: KeyRing
  /** absent in files written before envelopes were authenticated: see withEnvelopeRing */
  envelope?: KeyRing
}

/** What the workers need: the active keys as bytes (copied to each worker thread once). */
export interface WorkerKeys {
  pseudonymKeyId: string
  pseudonymKey: Uint8Array
  sealKeyId: string
  sealKey: Uint8Array
  /** the key the gateway tags envelopes with, and every envelope key the processor still accepts */
  envelopeKeyId?: string
  envelopeKeys?: Record<string, Uint8Array>
}

function newRing(prefix: string): KeyRing {
  const id = `${prefix}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
  return { active: id, keys: { [id]: randomBytes(32).toString('base64') } }
}

export async function loadOrCreateKeys(dataDir: string): Promise<KeyFile> {
  const dir = join(dataDir, 'keys')
  const file = join(dir, 'keys.json')
  try {
    return withEnvelopeRing(JSON.parse(await readFile(file, 'utf8')) as KeyFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const keys: KeyFile = { pseudonym: newRing('pk'), seal: newRing('sk'), envelope: newRing('ek') }
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' })
  await rename(tmp, file).catch(() => {})
  // another process may have won the race: everyone uses what is on disk
  return withEnvelopeRing(JSON.parse(await readFile(file, 'utf8')) as KeyFile)
}

/**
 * A key file from before envelopes were authenticated has no envelope ring. Its envelope key is derived
 * from the active seal key (HMAC-SHA-256 as a key-derivation function, RFC 5869 "extract" with a fixed
 * label) rather than drawn at random, so every process of the platform that reads the same file (a gateway
 * and a processor started separately) gets the same key without rewriting the file under a race.
 */
export function withEnvelopeRing(keys: KeyFile): KeyFile {
  if (keys.envelope) return keys
  const seal = Buffer.from(keys.seal.keys[keys.seal.active], 'base64')
  const id = `ek-from-${keys.seal.active}`
  const key = createHmac('sha256', seal).update('sidep ingest envelope authentication v1').digest('base64')
  return { ...keys, envelope: { active: id, keys: { [id]: key } } }
}

export function workerKeys(keys: KeyFile): WorkerKeys {
  const envelope = withEnvelopeRing(keys).envelope as KeyRing
  return {
    pseudonymKeyId: keys.pseudonym.active,
    pseudonymKey: Buffer.from(keys.pseudonym.keys[keys.pseudonym.active], 'base64'),
    sealKeyId: keys.seal.active,
    sealKey: Buffer.from(keys.seal.keys[keys.seal.active], 'base64'),
    envelopeKeyId: envelope.active,
    envelopeKeys: Object.fromEntries(Object.entries(envelope.keys).map(([id, k]) => [id, Buffer.from(k, 'base64')])),
  }
}

export function sealKeyById(keys: KeyFile, id: string): Uint8Array | undefined {
  const k = keys.seal.keys[id]
  return k === undefined ? undefined : Buffer.from(k, 'base64')
}
