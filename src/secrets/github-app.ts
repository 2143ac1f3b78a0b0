/**
 * Minted credentials: GitHub App installation tokens. Per session airlock
 * 1. signs an app JWT (RS256, `iss` = app id, `iat` 60 s in the past, `exp` 9 min ahead) with the
 *    App private key read from its source;
 * 2. `POST {apiUrl}/app/installations/{id}/access_tokens` with `{repositories, permissions}` from the
 *    policy → a token scoped to those repositories and permissions, valid at most an hour;
 * 3. uses that token as the secret value (injected in flight, never inside the sandbox);
 * 4. at session end `DELETE {apiUrl}/installation/token` with the token → revoked.
 *
 * The requests go from the host directly (not through the session proxy), verifying the server
 * against the system trust store plus the policy's `network.upstreamCA`.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { request } from 'node:https';
import type { GithubAppMint } from '../policy/index.js';
import { AirlockError } from '../util/errors.js';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An RS256 JWT for the App (RFC 7519; GitHub's "authenticating as a GitHub App"). */
export function appJwt(appId: string, privateKeyPem: string, nowMs = Date.now()): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new AirlockError('secret-mint', `mint github-app ${appId}: the private key is not a PEM private key`, 'download the App private key (.pem) from the App settings', 1);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new AirlockError('secret-mint', `mint github-app ${appId}: the private key is not an RSA key`, 'GitHub App keys are RSA (RS256)', 1);
  const now = Math.floor(nowMs / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iat: now - 60, exp: now + 540, iss: /^\d+$/.test(appId) ? Number(appId) : appId }));
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${b64url(sig)}`;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One HTTPS request with a JSON body; rejects on network errors and timeouts. */
export function httpsJson(url: string, method: string, headers: Record<string, string>, body: unknown, ca: string[] | undefined, timeoutMs = 15_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'https:') return reject(new Error(`refusing non-HTTPS URL ${u.origin}`));
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      u,
      {
        method,
        headers: { 'User-Agent': 'airlock', Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
        ...(ca ? { ca } : {}),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

function apiMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? m.slice(0, 200).replace(/[^\x20-\x7e]/g, '?') : '';
  } catch {
    return '';
  }
}

export interface MintedToken {
  token: string;
  /** When GitHub expires the token (ms since epoch), if it said. */
  expiresAtMs?: number;
}

/** Mints an installation token. Errors name the secret, the App and the HTTP status, never a key or token. */
export async function mintInstallationToken(secret: string, mint: GithubAppMint, privateKeyPem: string, ca: string[] | undefined): Promise<MintedToken> {
  const where = `secrets.${secret}.mint (github-app ${mint.appId}, installation ${mint.installationId})`;
  const jwt = appJwt(mint.appId, privateKeyPem);
  const body: Record<string, unknown> = {};
  if (mint.repositories) body.repositories = mint.repositories;
  if (mint.permissions) body.permissions = mint.permissions;
  let r: HttpResult;
  try {
    r = await httpsJson(`${mint.apiUrl}/app/installations/${encodeURIComponent(mint.installationId)}/access_tokens`, 'POST', { Authorization: `Bearer ${jwt}` }, body, ca);
  } catch (e) {
    throw new AirlockError('secret-mint', `${where}: cannot reach ${new URL(mint.apiUrl).origin}: ${(e as Error).message}`, 'check apiUrl and network.upstreamCA', 1);
  }
  if (r.status !== 201 && r.status !== 200) {
    const msg = apiMessage(r.body);
    throw new AirlockError('secret-mint', `${where}: GitHub answered HTTP ${r.status}${msg ? `: ${msg}` : ''}`, 'check the App id, installation id, key, and that the repositories/permissions are granted to the App', 1);
  }
  let parsed: { token?: unknown; expires_at?: unknown };
  try {
    parsed = JSON.parse(r.body) as typeof parsed;
  } catch {
    throw new AirlockError('secret-mint', `${where}: the answer is not JSON`, 'check apiUrl', 1);
  }
  if (typeof parsed.token !== 'string' || !parsed.token) throw new AirlockError('secret-mint', `${where}: the answer holds no token`, 'check apiUrl', 1);
  const exp = typeof parsed.expires_at === 'string' ? Date.parse(parsed.expires_at) : NaN;
  return { token: parsed.token, ...(Number.isFinite(exp) ? { expiresAtMs: exp } : {}) };
}

/** Revokes an installation token (`DELETE /installation/token`). Resolves with the HTTP status. */
export async function revokeInstallationToken(mint: GithubAppMint, token: string, ca: string[] | undefined): Promise<number> {
  const r = await httpsJson(`${mint.apiUrl}/installation/token`, 'DELETE', { Authorization: `Bearer ${token}` }, undefined, ca);
  return r.status;
}
