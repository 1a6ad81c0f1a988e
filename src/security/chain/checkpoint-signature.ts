/**
 * Signed checkpoints: an Ed25519 signature (node:crypto) over a canonical statement "the chain's
 * link at position P was L at time T, for this reason, with this summary". Whoever holds only the
 * public key can check that a checkpoint was issued by the key's holder and not altered since; a
 * checkpoint kept outside the database (exported) then pins the chain's history up to P.
 *
 * Keys: `ACTIONTRAIL_SIGNING_KEY` names a PEM file holding the Ed25519 private key (PKCS#8, as
 * `actiontrail keygen` or `openssl genpkey -algorithm ed25519` write it). The key id is the hex
 * SHA-256 of the public key's DER (SPKI) encoding.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto'
import { readFileSync } from 'node:fs'

/** What a checkpoint states; the signature covers exactly these fields. */
export interface CheckpointStatement {
  position: number
  link: string
  /** Canonical time (YYYY-MM-DDTHH:MM:SS.ffffff). */
  createdAt: string
  reason: string
  /** JSON text: what the checkpoint summarises (counts, what an archive or purge removed). */
  summary: string
}

/** The canonical bytes a checkpoint's signature covers. */
export function checkpointPayload(s: CheckpointStatement): Buffer {
  return Buffer.from(
    JSON.stringify([
      'actiontrail-checkpoint-v1',
      s.position,
      s.link,
      s.createdAt,
      s.reason,
      s.summary,
    ]),
    'utf8',
  )
}

/** A signing key loaded from its file. */
export interface SigningKey {
  privateKey: KeyObject
  publicKey: KeyObject
  keyId: string
}

/** The key id of a public key: hex SHA-256 of its DER (SPKI) encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
}

function requireEd25519(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file}: not an Ed25519 key (found ${key.asymmetricKeyType ?? key.type})`)
}

/** Loads the Ed25519 private key in the PEM file `file`. */
export function loadSigningKey(file: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(file))
  requireEd25519(privateKey, file)
  const publicKey = createPublicKey(privateKey)
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) }
}

/** Loads a public key from a PEM file holding either the public key or the private key. */
export function loadPublicKey(file: string): KeyObject {
  const pem = readFileSync(file)
  const key = pem.includes('PRIVATE KEY')
    ? createPublicKey(createPrivateKey(pem))
    : createPublicKey(pem)
  requireEd25519(key, file)
  return key
}

/** The signature (base64) of a statement. */
export function signCheckpoint(key: SigningKey, s: CheckpointStatement): string {
  return sign(null, checkpointPayload(s), key.privateKey).toString('base64')
}

/** True when `signature` (base64) is `publicKey`'s signature of the statement. */
export function checkpointSignatureValid(
  publicKey: KeyObject,
  s: CheckpointStatement,
  signature: string,
): boolean {
  try {
    return verify(null, checkpointPayload(s), publicKey, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}

/** A new Ed25519 key pair as PEM texts (private: PKCS#8, public: SPKI). */
export function generateSigningKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}
