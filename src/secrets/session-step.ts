/**
 * The secrets door of `airlock run` (called from the marked block in session/run-session.ts).
 * Starts the broker when the policy declares secrets or method/path rules (which need TLS
 * termination), then:
 * - sets `ctx.interceptor` (the network door late-binds it for every request);
 * - adds the placeholders (never values) and the CA variables to `ctx.spec.env`;
 * - writes the CA bundle into `<runDir>/ca` and mounts it read-only at `/run/airlock/ca`;
 * - registers `broker.close()` (revoke placeholders and minted tokens, drop the CA key) with the
 *   teardown stack, so it runs on every exit path.
 * - adds the files values are read from (`file:` sources, App private keys) to `ctx.spec.deny`, so
 *   they are masked inside even when they sit in the workspace.
 * If a source cannot be read, or `env.pass` / `env.set` would carry a real value in, the step
 * throws and the agent never starts; the error names the secret, never the value.
 */
import { join } from 'node:path';
import type { SessionContext } from '../session/run-session.js';
import { AirlockError } from '../util/errors.js';
import { startSecretBroker } from './broker.js';

const leak = (message: string, hint: string) => new AirlockError('secret-exposed', message, hint, 2);

/** Where the CA files appear inside the sandbox. */
export const SANDBOX_CA_DIR = '/run/airlock/ca';

export async function startSecretsDoor(ctx: SessionContext): Promise<void> {
  const p = ctx.policy;
  const needed = p.secrets.length > 0 || p.network.allow.some((r) => r.methods !== undefined || r.paths !== undefined);
  if (!needed) return;
  // If the session's audit sink offers redaction (AuditLog.redact), register every value with it too.
  const sink = ctx.audit as typeof ctx.audit & { redact?: (value: string, label: string) => void };
  const onValue = typeof sink.redact === 'function' ? (name: string, value: string) => sink.redact!(value, name) : undefined;
  const broker = await startSecretBroker({ policy: p, sessionId: ctx.id, audit: { emit: (e) => ctx.audit.emit(e) }, env: ctx.hostEnv, ...(onValue ? { onValue } : {}) });
  ctx.defer('secrets broker', async () => {
    ctx.interceptor = undefined;
    await broker.close();
  });
  // Fail closed if the policy would hand a real value to the sandbox another way: a host variable
  // passed through (e.g. the `env:` source itself) or a value written into env.set.
  for (const name of p.env.pass) {
    const hit = broker.secretsIn(ctx.hostEnv[name] ?? '');
    if (hit.length) throw leak(`env.pass: ${name} holds the real value of secret ${hit.join(', ')}`, `remove ${name} from env.pass: the sandbox gets the placeholder in ${hit[0]}`);
  }
  for (const [name, value] of Object.entries(p.env.set)) {
    const hit = broker.secretsIn(value);
    if (hit.length) throw leak(`env.set.${name} holds the real value of secret ${hit.join(', ')}`, 'never write a secret value into the policy');
  }
  // The files a value is read from stay invisible inside (even when they sit in the workspace).
  for (const s of p.secrets) {
    if (s.source?.kind === 'file') ctx.spec.deny.push(s.source.path);
    if (s.mint?.privateKey.kind === 'file') ctx.spec.deny.push(s.mint.privateKey.path);
  }
  // Without a sandbox (--unsafe-no-sandbox) nothing is mounted: point at the host files directly.
  const ca = broker.sandboxCaFiles(join(ctx.runDir, 'ca'), ctx.backend.name === 'none' ? {} : { sandboxDir: SANDBOX_CA_DIR });
  ctx.spec.mounts.push(...ca.mounts);
  Object.assign(ctx.spec.env, ca.env, broker.env);
  ctx.interceptor = broker.interceptor;
  ctx.meta.secrets = broker.names;
}
