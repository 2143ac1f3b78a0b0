/**
 * The per-session certificate authority. At session start airlock generates an ECDSA P-256 key
 * pair **in memory** (a `KeyObject`; the private key is never exported, written or logged) and a
 * self-signed CA certificate; the sandbox trusts that certificate, and the proxy presents leaf
 * certificates signed by it — issued on demand, one per host, cached — for the hosts whose TLS it
 * terminates. When the session ends the object is dropped and the key is gone: certificates it
 * issued cannot be re-created by anyone.
 *
 * The certificates are X.509 v3 built with the DER encoder in `asn1.ts` and signed with
 * `crypto.sign('sha256', tbs, key)` (ecdsa-with-SHA256). CA: basicConstraints CA:TRUE pathlen 0,
 * keyUsage keyCertSign|cRLSign|digitalSignature, SKI. Leaf: basicConstraints CA:FALSE, keyUsage
 * digitalSignature, extKeyUsage serverAuth, subjectAltName (dNSName or iPAddress), SKI, AKI.
 *
 * ```ts
 * const ca = createSessionCA('airlock session 2026…');
 * const leaf = ca.leaf('api.github.com');        // { certPem, keyPem, context } — cached
 * new X509Certificate(leaf.certPem).verify(ca.certificate.publicKey) // true
 * ```
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext as tlsSecureContext, type SecureContext } from 'node:tls';
import { bitsBytes, bool, explicit, implicit, int, namedBits, octets, oid, seq, set, time, utf8 } from './asn1.js';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** How long certificates are valid: back-dated an hour for clock skew, forward for the session. */
const BACKDATE_MS = 60 * 60 * 1000;
const DEFAULT_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface IssuedLeaf {
  host: string;
  certPem: string;
  /** PEM of the leaf private key (in memory only; handed to the TLS stack, never written). */
  keyPem: string;
  /** A ready TLS context presenting the leaf followed by the CA certificate. */
  context: SecureContext;
}

export interface SessionCA {
  /** PEM of the CA certificate (public): what the sandbox trusts. */
  readonly certPem: string;
  readonly certificate: X509Certificate;
  /** Issue (or return the cached) leaf certificate for a host name or IP literal. */
  leaf(host: string): IssuedLeaf;
  /** Number of leaves issued so far (for tests and the session summary). */
  readonly issued: number;
  /** Forget every key; further `leaf()` calls throw. */
  destroy(): void;
}

function name(cn: string): Buffer {
  return seq(set(seq(oid(OID.organization), utf8('airlock'))), set(seq(oid(OID.commonName), utf8(cn))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** The subjectPublicKey bits of a SPKI (for the key identifier: SHA-1 of them, RFC 5280 §4.2.1.2 method 1). */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }; for P-256 the BIT STRING is the last 66 bytes
  // (tag, length 0x42, unused-bits byte, 65-byte uncompressed point).
  const point = spki.subarray(spki.length - 65);
  return createHash('sha1').update(point).digest();
}

function serial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, non-zero, 16 bytes
  return b;
}

interface CertInput {
  subjectCN: string;
  issuerCN: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

function buildCertificate(c: CertInput): Buffer {
  const algorithm = seq(oid(OID.ecdsaWithSHA256));
  const tbs = seq(
    explicit(0, int(2)), // v3
    int(serial()),
    algorithm,
    name(c.issuerCN),
    seq(time(c.notBefore), time(c.notAfter)),
    name(c.subjectCN),
    c.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...c.extensions)),
  );
  const signature = sign('sha256', tbs, c.signingKey); // DER-encoded ECDSA signature
  return seq(tbs, algorithm, bitsBytes(signature));
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** The bytes of an IP literal as written in a SAN iPAddress (4 or 16 bytes). */
export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand `::` and any embedded IPv4 tail.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Creates a session CA. `lifetimeMs` bounds every certificate it issues (default 7 days). */
export function createSessionCA(label: string, lifetimeMs = DEFAULT_LIFETIME_MS): SessionCA {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = pair.publicKey;
  let privateKey: KeyObject | undefined = pair.privateKey; // dropped by destroy()
  const now = Date.now();
  const notBefore = new Date(now - BACKDATE_MS);
  const notAfter = new Date(now + lifetimeMs);
  const caCN = label.slice(0, 64);
  const caKeyId = keyIdentifier(publicKey);
  const der = buildCertificate({
    subjectCN: caCN,
    issuerCN: caCN,
    publicKey,
    signingKey: privateKey!,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true), int(0))),
      extension(OID.keyUsage, true, namedBits([0, 5, 6])), // digitalSignature, keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, false, octets(caKeyId)),
    ],
  });
  const certPem = pem(der);
  const certificate = new X509Certificate(certPem);
  const cache = new Map<string, IssuedLeaf>();

  const issue = (host: string): IssuedLeaf => {
    if (!privateKey) throw new Error('session CA: destroyed (the session has ended)');
    const family = isIP(host);
    if (!family && !/^[a-z0-9.-]+$/i.test(host)) throw new Error(`session CA: not a host name: ${JSON.stringify(host)}`);
    const leafKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const san = family ? implicit(7, ipBytes(host)) : implicit(2, Buffer.from(host.toLowerCase(), 'ascii'));
    const leafDer = buildCertificate({
      subjectCN: host.slice(0, 64),
      issuerCN: caCN,
      publicKey: leafKeys.publicKey,
      signingKey: privateKey,
      notBefore,
      notAfter,
      extensions: [
        extension(OID.basicConstraints, true, seq()),
        extension(OID.keyUsage, true, namedBits([0])), // digitalSignature
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, seq(san)),
        extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(leafKeys.publicKey))),
        extension(OID.authorityKeyIdentifier, false, seq(implicit(0, caKeyId))),
      ],
    });
    const leafPem = pem(leafDer);
    const keyPem = leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const context = tlsSecureContext({ key: keyPem, cert: leafPem + certPem, minVersion: 'TLSv1.2' });
    return { host, certPem: leafPem, keyPem, context };
  };

  return {
    certPem,
    certificate,
    get issued() {
      return cache.size;
    },
    leaf(host: string): IssuedLeaf {
      const key = host.toLowerCase();
      let l = cache.get(key);
      if (!l) {
        l = issue(key);
        cache.set(key, l);
      }
      return l;
    },
    destroy() {
      privateKey = undefined;
      cache.clear();
    },
  };
}

