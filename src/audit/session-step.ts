/**
 * The audit door of `airlock run` (called from the audit block in src/session/run-session.ts).
 * It runs first among the doors, so every later door and the sandbox emit into the real log:
 *
 * 1. open the session log (`session start`: policy digest, backend, argv, workspace, session
 *    public key + host certificate) and install it as `ctx.audit`;
 * 2. start the runtime monitor for the backend — gVisor: trace sink + `--pod-init-config`
 *    (`ctx.spec.monitor.gvisorPodInitConfig`); bwrap: the eBPF tracer (`ctx.spec.monitor.bwrapPath`)
 *    where the host allows it, else the strace prefix (`ctx.spec.monitor.tracerArgv`); see
 *    bwrapTracerChoice() in ebpf-tracer.ts.
 *    If it cannot start, this throws and the session does not start. If it (or the log) fails
 *    midway, the session is stopped with the reason;
 * 3. at teardown (registered first, so it runs last, after the other doors have flushed their
 *    final events): stop the monitor, record file events from the staged workspace, write
 *    `session end` + the signed seal, sign the attestation, index, and print the summary.
 */
import type { AuditSink, EventInput } from './types.js';
import { openAuditLog, type AuditLog } from './log.js';
import { startGvisorMonitor } from './gvisor-monitor.js';
import { bwrapTracer } from './strace-tracer.js';
import { bwrapTracerChoice, ebpfTracer, MAP_KEYS } from './ebpf-tracer.js';
import { writeSessionAttestation, ATTESTATION_FILE, type ChangeLike } from './attest.js';
import { formatSessionSummary } from './summary.js';
import { join } from 'node:path';

/** The part of the session context this step uses (structural: run-session's SessionContext fits). */
export interface AuditStepContext {
  id: string;
  dir: string;
  runDir: string;
  policy: { source: { file: string; digest: string }; commands?: { deny: { text: string }[] }; runtime?: { limits?: { pids?: number } } };
  backend: { name: string };
  spec: { argv: string[]; workspace: { sandboxPath: string }; monitor?: { gvisorPodInitConfig?: string; tracerArgv?: string[]; bwrapPath?: string } };
  audit: AuditSink;
  log(line: string): void;
  defer(name: string, fn: () => void | Promise<void>): void;
  /** Stops the sandbox with a reason, when the session offers it. */
  stop?: (reason: string) => void;
}

export interface AuditStepOptions {
  /** Where the summary goes (default: stderr). Pass null to print nothing. */
  summary?: ((text: string) => void) | null;
  /** Reads the staged changes at the end (default: workspace/ sessionChanges). */
  changes?: (sessionDir: string) => Promise<ChangeLike[]>;
  /** Force a monitor choice (default: by backend name). */
  monitor?: 'gvisor' | 'ebpf' | 'strace' | 'none';
}

export async function startSessionAudit(ctx: AuditStepContext, opts: AuditStepOptions = {}): Promise<AuditLog> {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    if (ctx.stop) return ctx.stop(reason); // prints and records the reason, kills the sandbox
    ctx.log(`stopping the session: ${reason}`);
    process.kill(process.pid, 'SIGTERM'); // run-session's signal path tears the sandbox down
  };
  let endDetail: Record<string, unknown> | undefined;
  const log = await openAuditLog({
    sessionId: ctx.id,
    sessionDir: ctx.dir,
    policyDigest: ctx.policy.source.digest,
    backend: ctx.backend.name,
    start: { argv: ctx.spec.argv, workspace: ctx.spec.workspace.sandboxPath, policyFile: ctx.policy.source.file },
    onError: (err) => stop(`the audit log cannot be written (${err.message}); airlock does not run agents unrecorded`),
  });
  // `session end` from run-session carries the exit code: keep it for the real end event.
  // `redact(value, label)` is passed through so the secrets door can register real values
  // (broker `onValue`) with the log as a second line of defence: `(ctx.audit as RedactingSink).redact?.(v, name)`.
  const sink: AuditSink & { redact(value: string, label: string): void } = {
    redact: (value: string, label: string) => log.redact(value, label),
    emit(e: EventInput) {
      if (e.kind === 'session' && e.action === 'end') {
        endDetail = { ...(e.detail ?? {}) };
        return;
      }
      log.emit(e);
    },
  };
  ctx.audit = sink;

  let which = opts.monitor;
  let stopMonitor: () => Promise<unknown> = async () => undefined;
  const denyPatterns = (ctx.policy.commands?.deny ?? []).map((d) => d.text);
  const failedMidway = (what: string) => (err: Error) => {
    log.emit({ kind: 'session', action: 'error', decision: 'deny', subject: 'monitor', detail: { reason: err.message } });
    stop(`${what} failed: ${err.message}`);
  };
  try {
    // eBPF picked by airlock (neither the caller nor AIRLOCK_BWRAP_TRACER asked for it): strace may stand in
    const ebpfByDefault = which === undefined && !process.env.AIRLOCK_BWRAP_TRACER;
    which ??= ctx.backend.name === 'gvisor' ? 'gvisor' : ctx.backend.name === 'bwrap' ? bwrapTracerChoice() : 'none';
    if (which === 'gvisor') {
      const mon = await startGvisorMonitor({ runDir: ctx.runDir, audit: log, denyPatterns });
      ctx.spec.monitor = { ...(ctx.spec.monitor ?? {}), gvisorPodInitConfig: mon.podInitConfigPath };
      stopMonitor = () => mon.stop();
      void mon.failed.then(failedMidway('the gVisor monitor'));
    }
    const pids = ctx.policy.runtime?.limits?.pids;
    if (which === 'ebpf' && ebpfByDefault && pids !== undefined && pids > MAP_KEYS / 2) {
      // The eBPF tracer's traced set is a map of MAP_KEYS tasks: more could go untraced.
      log.emit({ kind: 'session', action: 'monitor', decision: 'info', subject: 'strace', detail: { reason: `runtime.limits.pids (${pids}) allows more tasks than the eBPF tracer can follow (${MAP_KEYS / 2}); process events come from strace` } });
      which = 'strace';
    }
    if (which === 'ebpf') {
      try {
        const tr = await ebpfTracer({ runDir: ctx.runDir, audit: log, denyPatterns });
        ctx.spec.monitor = { ...(ctx.spec.monitor ?? {}), bwrapPath: tr.bwrapPath };
        stopMonitor = () => tr.stop();
        void tr.failed.then(failedMidway('the process tracer'));
      } catch (err) {
        // Chosen by airlock, not forced: a host that looked able to run it but cannot (a kernel
        // without some BTF field, a locked-down bpf()) still gets a tracer, and the log says so.
        if (!ebpfByDefault) throw err;
        log.emit({ kind: 'session', action: 'monitor', decision: 'info', subject: 'strace', detail: { reason: `the eBPF tracer could not start (${(err as Error).message}); process events come from strace` } });
        which = 'strace';
      }
    }
    if (which === 'strace') {
      const tr = await bwrapTracer({ runDir: ctx.runDir, audit: log, denyPatterns });
      ctx.spec.monitor = { ...(ctx.spec.monitor ?? {}), tracerArgv: tr.argvPrefix };
      stopMonitor = () => tr.stop();
      void tr.failed.then(failedMidway('the process tracer'));
    }
    if (which === 'none') {
      log.emit({ kind: 'session', action: 'monitor', decision: 'info', subject: 'none', detail: { reason: `backend ${ctx.backend.name} has no runtime monitor: process events are not recorded` } });
    }
  } catch (err) {
    log.emit({ kind: 'session', action: 'error', decision: 'deny', subject: 'monitor', detail: { reason: (err as Error).message } });
    await log.close({ status: 'failed', reason: `monitor could not start: ${(err as Error).message}` }).catch(() => undefined);
    log.forgetKey();
    throw err;
  }

  ctx.defer('audit', async () => {
    await stopMonitor().catch((err: Error) => log.emit({ kind: 'session', action: 'error', decision: 'info', subject: 'monitor', detail: { reason: `stopping the monitor: ${err.message}` } }));
    let changes: ChangeLike[] = [];
    try {
      let gitWrites: { path: string; reason: string }[] = [];
      const read =
        opts.changes ??
        (async (dir: string) => {
          const ws = await import('../workspace/index.js');
          const set = await ws.collectChanges(dir);
          gitWrites = set.ignored.filter((i) => i.gitExec);
          return set.changes.map(ws.publicChange);
        });
      changes = await read(ctx.dir);
      // Hooks and git config the agent wrote: not part of the change list (never applied), but evidence.
      for (const g of gitWrites) log.emit({ kind: 'file', action: 'write', decision: 'allow', subject: g.path, detail: { source: 'workspace', applied: false, reason: g.reason } });
      for (const c of changes) {
        log.emit({
          kind: 'file',
          action: c.kind,
          decision: 'allow',
          subject: c.path,
          detail: { source: 'workspace', type: c.type, oldPath: c.oldPath, sha256: c.sha256, mode: c.mode !== undefined ? `0${c.mode.toString(8)}` : undefined, oldMode: c.oldMode !== undefined ? `0${c.oldMode.toString(8)}` : undefined, size: (c as { size?: number }).size },
        });
      }
    } catch (err) {
      log.emit({ kind: 'session', action: 'error', decision: 'info', subject: 'workspace', detail: { reason: `could not list the staged changes: ${(err as Error).message}` } });
    }
    const exitCode = typeof endDetail?.exitCode === 'number' ? endDetail.exitCode : undefined;
    const reason = typeof endDetail?.reason === 'string' ? endDetail.reason : undefined;
    const seal = await log.close({ ...(endDetail ?? {}), status: endDetail ? 'ended' : 'failed', exitCode, filesChanged: changes.length });
    let attestationPath: string | undefined;
    try {
      writeSessionAttestation(log, seal, { changes, policyDigest: ctx.policy.source.digest, policyFile: ctx.policy.source.file, backend: ctx.backend.name, exitCode, reason });
      attestationPath = join(ctx.dir, ATTESTATION_FILE);
    } catch (err) {
      ctx.log(`attestation: ${(err as Error).message}`);
    } finally {
      log.forgetKey();
    }
    const text = formatSessionSummary({ sessionId: ctx.id, stats: log.stats, logPath: log.path, exitCode, reason, changes, head: seal.head, attestationPath });
    const out = opts.summary === undefined ? (t: string) => process.stderr.write(`${t}\n`) : opts.summary;
    out?.(text);
  });
  return log;
}
