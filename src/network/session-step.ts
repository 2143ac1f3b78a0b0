/**
 * The network door of a session (called from src/session/run-session.ts, step "network"):
 * start the proxy on `<runDir>/net/proxy.sock`, add the bridge (socket mount, relay prelude, proxy
 * variables) to the launch spec, and register teardown — which records the per-host totals in the
 * session metadata and, with `airlock run --network-log`, prints hosts contacted and denied.
 *
 * Fail closed: if the proxy cannot start this throws, and the session never launches the agent.
 * No allow rule → no proxy and no relay: the sandbox simply has no network.
 *
 * Thread: the proxy runs in a worker thread unless the session needs the secrets broker's
 * interceptor (secrets declared, or rules restricting methods/paths, which need TLS termination):
 * that interceptor is an object of the main thread, so the proxy then runs inline, consulting
 * `ctx.interceptor` — set by the secrets step — on every request.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionContext } from '../session/run-session.js';
import type { Interceptor } from './interceptor.js';
import { DEFAULT_RELAY_PORT, needsProxy, sandboxNetworkPlan } from './bridge.js';
import { startProxy, type ProxyStats } from './index.js';

export async function startNetworkDoor(ctx: SessionContext & { interceptor?: Interceptor; networkLog?: boolean }): Promise<void> {
  if (!needsProxy(ctx.policy)) {
    if (ctx.networkLog) ctx.defer('network log', () => ctx.log('network: no network.allow rules: the sandbox had no network'));
    return;
  }
  const netDir = join(ctx.runDir, 'net');
  mkdirSync(netDir, { recursive: true, mode: 0o700 });
  const needsInterceptor = ctx.policy.secrets.length > 0 || ctx.policy.network.allow.some((r) => r.methods || r.paths);
  // Late-bound: the secrets step may run after this one; requests only come once the agent runs.
  const late: Interceptor = {
    checkRequest: (req) => (ctx.interceptor ? ctx.interceptor.checkRequest(req) : { action: 'forward', headers: req.headers }),
    wantsTermination: (host, port) => (ctx.interceptor ? ctx.interceptor.wantsTermination(host, port) : false),
    terminate: (client, target, forward) => {
      if (ctx.interceptor) ctx.interceptor.terminate(client, target, forward);
      else client.destroy();
    },
  };
  const proxy = await startProxy({
    policy: ctx.policy,
    socketPath: join(netDir, 'proxy.sock'),
    audit: { emit: (e) => ctx.audit.emit(e) },
    ...(needsInterceptor ? { interceptor: late } : {}),
    onDeath: (why) => ctx.log(`the egress proxy died (${why}); the sandbox has no network from now on`),
  });
  ctx.defer('network proxy', async () => {
    await proxy.close();
    const stats = proxy.stats();
    ctx.meta.network = { hostsContacted: stats.hostsContacted, hostsDenied: stats.hostsDenied, counts: stats.counts };
    if (ctx.networkLog) for (const line of formatNetworkLog(stats)) ctx.log(line);
  });
  const plan = sandboxNetworkPlan({ socketPath: proxy.socketPath, port: DEFAULT_RELAY_PORT })!;
  ctx.spec.mounts.push(...plan.mounts);
  Object.assign(ctx.spec.env, plan.env);
  ctx.spec.prelude.push(...plan.prelude);
}

/** Lines for `--network-log`: every host contacted and every host denied, with counts. */
export function formatNetworkLog(stats: ProxyStats): string[] {
  const size = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
  const lines = [`network: ${stats.counts.attempts} attempts, ${stats.counts.allowed} allowed, ${stats.counts.denied} denied, ${stats.counts.errors} upstream errors`];
  lines.push(`network: hosts contacted: ${stats.hostsContacted.length || 'none'}`);
  for (const h of stats.hostsContacted) {
    const s = stats.hosts[h]!;
    lines.push(`network:   ${h}  ${s.allowed} allowed, ${size(s.bytesUp)} up, ${size(s.bytesDown)} down`);
  }
  lines.push(`network: hosts denied: ${stats.hostsDenied.length || 'none'}`);
  for (const h of stats.hostsDenied) lines.push(`network:   ${h}  ${stats.hosts[h]!.denied} denied`);
  return lines.map((l) => l.trimEnd());
}
