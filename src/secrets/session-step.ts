/**
 * The secrets door of `airlock run` (called from the marked block in session/run-session.ts).
 * Starts the broker when the policy declares secrets or method/path rules (which need TLS
 * termination), then:
 * - sets `ctx.interceptor` (the network door late-binds it for every request);
 * - adds the placeholders (never values) and the CA variables to `ctx.spec.env`;
 * - writes the CA bundle into `<runDir>/ca` and mounts it read-only at `/run/airlock/ca`;
 * - registers `broker.close()` (revoke placeholders and minted tokens, drop the CA key) with the
 *   teardown stack, so it runs on every exit path.
 * If a source cannot be read the step throws and the agent never starts; the error names the
 * secret, never the value.
 */
import { join } from 'node:path';
import type { SessionContext } from '../session/run-session.js';
import { startSecretBroker } from './broker.js';

/** Where the CA files appear inside the sandbox. */
export const SANDBOX_CA_DIR = '/run/airlock/ca';

export async function startSecretsDoor(ctx: SessionContext): Promise<void> {
  const p = ctx.policy;
  const needed = p.secrets.length > 0 || p.network.allow.some((r) => r.methods !== undefined || r.paths !== undefined);
  if (!needed) return;
  const broker = await startSecretBroker({ policy: p, sessionId: ctx.id, audit: { emit: (e) => ctx.audit.emit(e) }, env: ctx.hostEnv });
  ctx.defer('secrets broker', async () => {
    ctx.interceptor = undefined;
    await broker.close();
  });
  const ca = broker.sandboxCaFiles(join(ctx.runDir, 'ca'), { sandboxDir: SANDBOX_CA_DIR });
  ctx.spec.mounts.push(...ca.mounts);
  Object.assign(ctx.spec.env, ca.env, broker.env);
  ctx.interceptor = broker.interceptor;
  ctx.meta.secrets = broker.names;
}
