/**
 * Signing keys. Two levels:
 *
 * - the **host identity** key: Ed25519, created on first use in `$AIRLOCK_HOME/identity/`
 *   (`host-ed25519.pem`, mode 0600, in a 0700 directory; `host-ed25519.pub.pem` beside it). It
 *   never signs events; it certifies each session's public key.
 * - the **session** key: Ed25519, generated in memory when the log opens and never written to
 *   disk. Its public key and the host's certificate for it sit in the `session start` event; it
 *   signs the log head at checkpoints and at the end, and the session attestation. Once the
 *   session ends the private key is gone, so nobody (airlock included) can re-sign an edited log.
 *
 * Other hosts' public keys placed in `$AIRLOCK_HOME/identity/trusted/*.pub.pem` are trusted too
 * (for verifying attestations produced on CI runners or colleagues' machines).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { airlockHome } from '../session/store.js';
import { AirlockError } from '../util/errors.js';
import { canonicalJson, sha256Hex } from './canonical.js';

export interface HostIdentity {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** base64 SPKI DER of the public key. */
  publicKeyB64: string;
  /** `sha256:` + hex of the SPKI DER, the short name of the key. */
  fingerprint: string;
}

export function identityDir(): string {
  return join(airlockHome(), 'identity');
}

export function publicKeyToB64(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

export function publicKeyFromB64(b64: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw new AirlockError('audit-key', 'not a valid Ed25519 public key (base64 SPKI DER expected)', undefined, 1);
  }
}

export function fingerprintOf(publicKeyB64: string): string {
  return `sha256:${sha256Hex(Buffer.from(publicKeyB64, 'base64'))}`;
}

/** Loads the host identity, creating it (atomically, race-free) on first use. */
export function loadHostIdentity(): HostIdentity {
  const dir = identityDir();
  const file = join(dir, 'host-ed25519.pem');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const tmp = join(dir, `.host-ed25519.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file); // fails with EEXIST if another process won the race: use theirs
      writeFileSync(join(dir, 'host-ed25519.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new AirlockError('audit-identity', `cannot read the host identity key ${file}: ${(err as Error).message}`, 'remove it to create a new identity (old attestations then no longer verify as this host)', 1);
  }
  try {
    chmodSync(file, 0o600);
  } catch {
    /* read-only home: the key is still usable */
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyB64 = publicKeyToB64(publicKey);
  return { privateKey, publicKey, publicKeyB64, fingerprint: fingerprintOf(publicKeyB64) };
}

/** The base64 SPKI public keys this machine trusts: its own identity plus `identity/trusted/*.pub.pem`. */
export function trustedHostKeys(): Set<string> {
  const out = new Set<string>();
  const own = join(identityDir(), 'host-ed25519.pem');
  if (existsSync(own)) {
    try {
      out.add(publicKeyToB64(createPublicKey(createPrivateKey(readFileSync(own)))));
    } catch {
      /* unreadable: not trusted */
    }
  }
  const tdir = join(identityDir(), 'trusted');
  if (existsSync(tdir)) {
    for (const n of readdirSync(tdir)) {
      if (!n.endsWith('.pem')) continue;
      try {
        out.add(publicKeyToB64(createPublicKey(readFileSync(join(tdir, n)))));
      } catch {
        /* skip unreadable */
      }
    }
  }
  return out;
}

export interface SessionKey {
  privateKey: KeyObject;
  publicKeyB64: string;
  certificate: SessionCertificate;
}

/** The host's statement "this public key belongs to session S", signed by the host key. */
export interface SessionCertificate {
  type: 'airlock-session-key/v1';
  session: string;
  publicKey: string;
  hostPublicKey: string;
  issuedAt: string;
  /** base64 Ed25519 signature by the host key over the canonical JSON of the other fields. */
  signature: string;
}

export function newSessionKey(sessionId: string, host: HostIdentity, now = new Date()): SessionKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyB64 = publicKeyToB64(publicKey);
  const body = { type: 'airlock-session-key/v1' as const, session: sessionId, publicKey: publicKeyB64, hostPublicKey: host.publicKeyB64, issuedAt: now.toISOString() };
  const signature = sign(null, Buffer.from(canonicalJson(body)), host.privateKey).toString('base64');
  return { privateKey, publicKeyB64, certificate: { ...body, signature } };
}

/** Checks a certificate's signature (not whether its host key is trusted). */
export function certificateValid(cert: SessionCertificate): boolean {
  try {
    const { signature, ...body } = cert;
    if (body.type !== 'airlock-session-key/v1') return false;
    return verify(null, Buffer.from(canonicalJson(body)), publicKeyFromB64(cert.hostPublicKey), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The bytes a log-head signature covers. */
export function headMessage(sessionId: string, seq: number, head: string): Buffer {
  return Buffer.from(`airlock-audit-head/v1\n${sessionId}\n${seq}\n${head}`);
}

export function verifySig(publicKeyB64: string, message: Buffer, signatureB64: string): boolean {
  try {
    return verify(null, message, publicKeyFromB64(publicKeyB64), Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
