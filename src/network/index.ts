/**
 * network/ — the egress door. One proxy per session, on a unix socket that is bridged into the
 * sandbox (the sandbox itself has no interface but loopback), deciding every request on the
 * policy and on the address it actually dials, and recording every attempt as a `network` event.
 *
 * Where the proxy runs: by default in a **worker thread** of the airlock process. A worker has
 * its own event loop, so a `spawnSync` (or any long synchronous work) on the main thread cannot
 * stall the agent's network — nor deadlock when the synchronously-awaited child itself needs the
 * proxy. It is still one process (no extra exec, shared memory with the session; startup ≈ 30 ms).
 * Audit events are posted to the main thread and emitted there, in order.
 * An `interceptor` *object* cannot cross threads: when one is passed the proxy runs inline in the
 * caller's event loop (documented trade-off); pass `interceptorModule` instead to build the
 * interceptor inside the worker. A custom `resolver` (tests) also forces inline mode.
 *
 * Example:
 * ```ts
 * const proxy = await startProxy({ policy, socketPath: join(runDir, 'net', 'proxy.sock'), audit });
 * const plan = sandboxNetworkPlan({ socketPath: proxy.socketPath, port: 3128 });
 * // ... launch with plan.mounts, plan.env, plan.prelude ...
 * console.log(proxy.stats().hostsContacted);
 * await proxy.close();
 * ```
 */
import { existsSync, lstatSync, chmodSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { AuditSink, EventInput } from '../audit/types.js';
import type { Policy, NetworkRule } from '../policy/compile.js';
import { AirlockError } from '../util/errors.js';
import type { Interceptor } from './interceptor.js';
import type { Resolver } from './guard.js';
import { ProxyCore } from './server.js';

export type { Interceptor, RequestView, InterceptDecision, TerminatedForward } from './interceptor.js';
export type { Resolver } from './guard.js';
export { classifyAddress, resolveAndCheck, systemResolver } from './guard.js';
export { compileNetworkMatcher, normalizeTarget, canonicalPath, type NetworkMatcher, type Target, type MatchDecision } from './match.js';
export { parseHostLiteral, parseIPv4Loose, parseIPv6, parseIP, type IPAddr } from './ip.js';
export { startNetworkDoor, formatNetworkLog } from './session-step.js';
export { sandboxNetworkPlan, needsProxy, RELAY_LAUNCHER, DEFAULT_RELAY_PORT, type SandboxNetworkPlan } from './bridge.js';

export interface StartProxyOptions {
  policy: Pick<Policy, 'network'>;
  /** Unix socket the proxy listens on (its directory must exist; the path must be free). */
  socketPath: string;
  audit: AuditSink;
  /** The secrets broker's interceptor (forces inline mode; see the module doc). */
  interceptor?: Interceptor;
  /** Build the interceptor inside the worker: `import(url)[exportName](options)`. */
  interceptorModule?: { url: string; exportName: string; options?: unknown };
  /** Extra CA trusted for upstream TLS (PEM text or a file path); default: `policy.network.upstreamCA`. */
  upstreamCA?: string;
  /** Name resolution (tests); forces inline mode. Default: dns.lookup, all addresses. */
  resolver?: Resolver;
  /** Also listen on 127.0.0.1:<tcpPort> (0 = any free port). For tests and benchmarks. */
  tcpPort?: number;
  /** Same as `tcpPort` (`true` = any free port). */
  tcp?: boolean | { port?: number };
  /** 'worker' (default) or 'inline'. */
  thread?: 'worker' | 'inline';
  /** Called once if the proxy dies while the session runs (after the session error event). */
  onDeath?: (why: string) => void;
  maxHeaderSize?: number;
}

export interface ProxyStats {
  /** `host:port` of every target at least one request was allowed to. */
  hostsContacted: string[];
  /** `host:port` of every target refused at least once. */
  hostsDenied: string[];
  counts: { attempts: number; allowed: number; denied: number; errors: number; bytesUp: number; bytesDown: number };
  /** Per `host:port`: attempts allowed (without upstream error), denied, and bytes each way. */
  hosts: Record<string, { allowed: number; denied: number; errors: number; bytesUp: number; bytesDown: number }>;
}

export interface ProxyHandle {
  socketPath: string;
  /** The TCP port on 127.0.0.1 when `tcpPort` (or `tcp`) was given; `port` is the same. */
  tcpPort?: number;
  port?: number;
  thread: 'worker' | 'inline';
  stats(): ProxyStats;
  /** false once the proxy died (worker crashed) or was closed. */
  alive(): boolean;
  close(): Promise<void>;
}

/** What the worker receives (structured-clonable). */
export interface WorkerInit {
  network: { allow: NetworkRule[]; deny: NetworkRule[] };
  socketPath?: string;
  tcpPort?: number;
  upstreamCA?: string;
  maxHeaderSize?: number;
  interceptorModule?: { url: string; exportName: string; options?: unknown };
}

class StatsTracker {
  private contacted = new Set<string>();
  private denied = new Set<string>();
  private counts = { attempts: 0, allowed: 0, denied: 0, errors: 0, bytesUp: 0, bytesDown: 0 };
  private hosts: ProxyStats['hosts'] = {};
  observe(e: EventInput): void {
    if (e.kind !== 'network') return;
    const d = e.detail ?? {};
    const h = (this.hosts[e.subject] ??= { allowed: 0, denied: 0, errors: 0, bytesUp: 0, bytesDown: 0 });
    const up = Number(d.bytesUp ?? 0);
    const down = Number(d.bytesDown ?? 0);
    this.counts.attempts++;
    if (e.decision === 'deny') {
      this.counts.denied++;
      h.denied++;
      this.denied.add(e.subject);
    } else if (d.error) {
      this.counts.errors++;
      h.errors++;
    } else {
      this.counts.allowed++;
      h.allowed++;
      this.contacted.add(e.subject);
    }
    this.counts.bytesUp += up;
    this.counts.bytesDown += down;
    h.bytesUp += up;
    h.bytesDown += down;
  }
  snapshot(): ProxyStats {
    return { hostsContacted: [...this.contacted].sort(), hostsDenied: [...this.denied].sort(), counts: { ...this.counts }, hosts: structuredClone(this.hosts) };
  }
}

function startError(socketPath: string, why: string, hint?: string): AirlockError {
  return new AirlockError('proxy-start', `network: the egress proxy could not start on ${socketPath}: ${why}`, hint ?? 'the agent was not started (fail closed); check the session run directory', 125);
}

/**
 * Starts the per-session egress proxy. Rejects with an AirlockError (code `proxy-start`) when it
 * cannot listen — the caller must then not start the agent.
 */
export async function startProxy(opts: StartProxyOptions): Promise<ProxyHandle> {
  const { socketPath } = opts;
  if (Buffer.byteLength(socketPath) > 107) throw startError(socketPath, 'unix socket path longer than 107 bytes', 'use a shorter AIRLOCK_HOME');
  if (existsSync(socketPath)) throw startError(socketPath, lstatSync(socketPath).isSocket() ? 'a socket already exists there (another proxy?)' : 'the path exists');
  let upstreamCA = opts.upstreamCA;
  if (upstreamCA !== undefined && !upstreamCA.includes('-----BEGIN')) {
    try {
      upstreamCA = readFileSync(upstreamCA, 'utf8');
    } catch (err) {
      throw startError(socketPath, `cannot read upstreamCA ${opts.upstreamCA}: ${(err as Error).message}`);
    }
  }
  const caFile = (opts.policy.network as Policy['network']).upstreamCA;
  if (upstreamCA === undefined && caFile) {
    try {
      upstreamCA = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw startError(socketPath, `cannot read network.upstreamCA ${caFile}: ${(err as Error).message}`);
    }
  }
  const network = { allow: opts.policy.network.allow, deny: opts.policy.network.deny };
  if (opts.tcpPort === undefined && opts.tcp) opts = { ...opts, tcpPort: opts.tcp === true ? 0 : (opts.tcp.port ?? 0) };
  const tracker = new StatsTracker();
  const emit = (e: EventInput) => {
    tracker.observe(e);
    try {
      opts.audit.emit(e);
    } catch {
      /* the sink must not break the proxy */
    }
  };
  const thread = opts.thread ?? (opts.interceptor || opts.resolver ? 'inline' : 'worker');
  if (thread === 'worker' && (opts.interceptor || opts.resolver)) throw startError(socketPath, 'an interceptor or resolver object cannot run in the worker thread', 'pass interceptorModule, or thread: "inline"');

  if (thread === 'inline') {
    const serverError = (err: Error) => {
      try {
        opts.audit.emit({ kind: 'session', action: 'error', decision: 'info', subject: 'network-proxy', detail: { error: `egress proxy listener error: ${err.message}` } });
      } catch {
        /* ignore */
      }
    };
    const core = new ProxyCore({ network, emit, interceptor: opts.interceptor, upstreamCA, resolver: opts.resolver, maxHeaderSize: opts.maxHeaderSize, onServerError: serverError });
    let tcpPort: number | undefined;
    try {
      await core.listenUnix(socketPath);
      chmodSync(socketPath, 0o600);
      if (opts.tcpPort !== undefined) tcpPort = await core.listenTcp(opts.tcpPort);
    } catch (err) {
      await core.close().catch(() => {});
      throw startError(socketPath, (err as Error).message);
    }
    let open = true;
    return {
      socketPath,
      tcpPort,
      port: tcpPort,
      thread,
      stats: () => tracker.snapshot(),
      alive: () => open,
      close: async () => {
        open = false;
        await core.close();
      },
    };
  }

  const init: WorkerInit = { network, socketPath, tcpPort: opts.tcpPort, upstreamCA, maxHeaderSize: opts.maxHeaderSize, interceptorModule: opts.interceptorModule };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init, stdout: false, stderr: false });
  let state: 'starting' | 'running' | 'closing' | 'dead' = 'starting';
  let closed: (() => void) | undefined;
  const tcpPort = await new Promise<number | undefined>((resolve, reject) => {
    worker.on('message', (m: { type: string; event?: EventInput; port?: number; message?: string }) => {
      if (m.type === 'event' && m.event) emit(m.event);
      else if (m.type === 'ready') {
        state = 'running';
        resolve(m.port);
      } else if (m.type === 'fatal' && state === 'starting') {
        state = 'dead';
        reject(startError(socketPath, m.message ?? 'unknown error'));
      } else if (m.type === 'closed') closed?.();
    });
    const died = (why: string) => {
      if (state === 'starting') {
        state = 'dead';
        reject(startError(socketPath, why));
        return;
      }
      if (state === 'running') {
        state = 'dead';
        try {
          opts.audit.emit({ kind: 'session', action: 'error', decision: 'info', subject: 'network-proxy', detail: { error: `egress proxy died: ${why}`, effect: 'the sandbox has no network from now on' } });
        } catch {
          /* ignore */
        }
        opts.onDeath?.(why);
      }
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => {
      if (state === 'closing') {
        state = 'dead';
        closed?.();
      } else died(`worker exited with code ${code}`);
    });
  });
  try {
    chmodSync(socketPath, 0o600);
  } catch {
    /* the worker created it; a missing socket will show as no network */
  }
  return {
    socketPath,
    tcpPort,
    port: tcpPort,
    thread,
    stats: () => tracker.snapshot(),
    alive: () => state === 'running',
    close: async () => {
      if (state !== 'running') return;
      state = 'closing';
      await new Promise<void>((resolve) => {
        closed = resolve;
        worker.postMessage({ type: 'close' });
        setTimeout(() => void worker.terminate(), 3000).unref();
      });
      await worker.terminate();
    },
  };
}
