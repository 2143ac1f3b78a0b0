/**
 * Session orchestration for `airlock run`: one ordered list of steps that assemble a LaunchSpec,
 * and a teardown stack that undoes them. Every door adds its part as one step:
 *
 *   1. session    id, state directory, session.json
 *   2. workspace  staged copy-on-write view of the repository (workspace/)
 *   3. network    egress proxy on a unix socket + relay prelude (network/)        ← door block
 *   4. secrets    placeholders and the injection interceptor (secrets/)           ← door block
 *   5. audit      event log and the runtime monitor (audit/)                      ← door block
 *   6. sandbox    backend.launch(spec), wait, exit code
 *
 * Rules for a step: it may only add to `ctx.spec` (mounts, env, prelude, executables, monitor);
 * whatever it starts (process, socket, mount, temp dir) registers its cleanup with `ctx.defer`
 * *before* returning; a step that throws aborts the run before the sandbox starts (fail closed),
 * and the teardown stack still runs, last-in first-out, on every exit path (normal exit, error,
 * SIGINT/SIGTERM/SIGHUP). Steps 3–5 run before the sandbox so that the agent never runs without
 * its proxy, broker or monitor.
 */
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditSink, EventInput } from '../audit/types.js';
import type { Policy } from '../policy/index.js';
import { BUILTIN_DENY_HOME, DOTENV_PATTERN } from '../policy/index.js';
import type { Backend, LaunchSpec, SandboxHandle } from '../sandbox/index.js';
import { locate, realBinDirs, sandboxEnv, sweepStale } from '../sandbox/index.js';
import { expandDenyGlobs, findDotEnvFiles, findHardLinksTo } from '../sandbox/mount-plan.js';
import { AirlockError } from '../util/errors.js';
import { releaseStage, stageWorkspace } from '../workspace/index.js';
import { startSessionAudit } from '../audit/index.js';
import { startNetworkDoor, type Interceptor } from '../network/index.js';
import { startSecretsDoor } from '../secrets/index.js';
import { airlockHome, createSessionDir, defaultAirlockHome, newSessionId, readSessionMeta, sessionDir, writeSessionMeta, type SessionMeta } from './store.js';
import { homedir } from 'node:os';

export interface RunSessionOptions {
  policy: Policy;
  backend: Backend;
  /** Host directory of the workspace (before staging). */
  workspace: string;
  argv: string[];
  /** Give the agent a terminal. */
  tty: boolean;
  /** Host environment to take `env.pass` and terminal variables from (default process.env). */
  hostEnv?: NodeJS.ProcessEnv;
  /** Where `airlock:` messages go (default stderr). */
  log?: (line: string) => void;
  /** An audit sink; a no-op sink until the audit step installs the real one. */
  audit?: AuditSink;
  /** Stage the workspace (default true). `false` binds it directly (only for --unsafe-no-sandbox). */
  stage?: boolean;
  /** `airlock run --network-log`: print hosts contacted and denied at the end. */
  networkLog?: boolean;
}

export interface SessionContext {
  id: string;
  dir: string;
  runDir: string;
  policy: Policy;
  backend: Backend;
  spec: LaunchSpec;
  /** Events go here; steps may replace it (audit step) — always emit through ctx.audit. */
  audit: AuditSink;
  hostEnv: NodeJS.ProcessEnv;
  log(line: string): void;
  /** Registers a cleanup; run last-in first-out on every exit path. */
  defer(name: string, fn: () => void | Promise<void>): void;
  /** Set by a step that wants to mark the session metadata. */
  meta: SessionMeta;
  /** Set by the secrets step: the broker's interceptor, consulted by the proxy on every request. */
  interceptor?: Interceptor;
  /** Print the network log at the end (`--network-log`). */
  networkLog?: boolean;
  /**
   * Stops the session because a door failed midway (monitor died, log unwritable): the sandbox is
   * killed (or never started), the reason is printed and recorded, and the run exits non-zero.
   */
  stop(reason: string): void;
}

export interface SessionStep {
  name: string;
  start(ctx: SessionContext): Promise<void> | void;
}

export interface RunResult {
  sessionId: string;
  exitCode: number;
  reason?: string;
}

const noopSink: AuditSink = { emit: () => undefined };

/** Exit code when the session could not start (a step failed): the agent never ran. */
export const EXIT_START_FAILED = 125;

// ─────────────────────────────────────────────────────────────────────────────────────────────
// Steps
// ─────────────────────────────────────────────────────────────────────────────────────────────

/** 2. The workspace: staged through workspace/ (overlay upper layer or copy). */
const workspaceStep: SessionStep = {
  name: 'workspace',
  async start(ctx) {
    const ws = ctx.spec.workspace.sandboxPath;
    if (ctx.backend.name === 'none' || ctx.meta.stage === false) {
      ctx.spec.workspace.hostPath = ws;
      return;
    }
    const staged = await stageWorkspace({
      workspace: ws,
      sessionDir: ctx.dir,
      diskBytes: ctx.policy.runtime.limits.diskBytes,
      exec: ctx.spec.executables === undefined,
    });
    ctx.defer('workspace', () => staged.release());
    ctx.spec.workspace.hostPath = staged.merged;
    ctx.meta.stageMode = staged.mode;
    if (staged.reason) ctx.log(`workspace staged by copy (${staged.reason})`);
  },
};

// ── door: network (src/network) ───────────────────────────────────────────────────────────────
// Start the egress proxy on a unix socket in ctx.runDir, add its plan (mounts, env, prelude,
// executables) to ctx.spec, ctx.defer(proxy.close). Until then the sandbox has no network at all.
const networkStep: SessionStep = {
  name: 'network',
  async start(ctx) {
    await startNetworkDoor(ctx);
  },
};
// ── end door: network ─────────────────────────────────────────────────────────────────────────

// ── door: secrets (src/secrets) ───────────────────────────────────────────────────────────────
// Resolve secret sources on the host, put placeholders into ctx.spec.env, hand the interceptor to
// the proxy, ctx.defer(revoke). Until then no secret enters the sandbox.
const secretsStep: SessionStep = {
  name: 'secrets',
  async start(ctx) {
    await startSecretsDoor(ctx);
  },
};
// ── end door: secrets ─────────────────────────────────────────────────────────────────────────

// ── door: audit (src/audit) ───────────────────────────────────────────────────────────────────
// Open the session log (replace ctx.audit), start the gVisor trace sink / bwrap tracer and set
// ctx.spec.monitor, ctx.defer(seal). The monitor must be listening before the sandbox starts.
// Runs FIRST among the steps, so the other doors capture the real log in ctx.audit, and its
// teardown (seal, attestation, summary) runs last, after their final events.
const auditStep: SessionStep = {
  name: 'audit',
  async start(ctx) {
    await startSessionAudit(ctx);
  },
};
// ── end door: audit ───────────────────────────────────────────────────────────────────────────

/** The ordered steps before the sandbox starts. */
export const SESSION_STEPS: SessionStep[] = [auditStep, workspaceStep, networkStep, secretsStep];

// ─────────────────────────────────────────────────────────────────────────────────────────────

/** Denied host paths for a policy: built-in list, airlock's state, policy deny (globs expanded), `.env*` outside the workspace. */
export function deniedPaths(policy: Policy, workspace: string, home = homedir()): string[] {
  const builtin = BUILTIN_DENY_HOME.map((p) => join(home, p));
  // airlock's own state (host identity key, other sessions' logs and staged trees) is never
  // visible, even when a policy shares a parent directory of it.
  const state = [...new Set([airlockHome(), defaultAirlockHome(home)])];
  const roots = [workspace, ...policy.filesystem.read, ...policy.filesystem.write];
  const policyDeny = expandDenyGlobs(policy.filesystem.deny, roots);
  const outside = [...policy.filesystem.read, ...policy.filesystem.write].filter((r) => !r.startsWith(workspace));
  const dotenv = findDotEnvFiles(outside, DOTENV_PATTERN);
  const denied = [...new Set([...builtin, ...policyDeny, ...dotenv])];
  // Hard links are looked for to the credential files and to the host identity key, not to every
  // file of every past session (which would also use up the walker's budget).
  const hardLinks = findHardLinksTo([...denied, ...state.map((s) => join(s, 'identity'))], roots);
  return [...denied, ...state, ...hardLinks];
}

/** Runs one session end to end. Resolves with the agent's exit code (or a start/limit code). */
export async function runSession(opts: RunSessionOptions): Promise<RunResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`airlock: ${line}\n`));
  const hostEnv = opts.hostEnv ?? process.env;
  timing('runSession entered', performance.now());
  for (const stale of sweepStale()) {
    // The sandbox side is gone; let the workspace door unmount the dead session's staging layers.
    try {
      await releaseStage(sessionDir(stale));
    } catch {
      /* no staged workspace, or already released */
    }
    log(`cleaned up after session ${stale}, whose airlock process had died`);
  }

  let workspace: string;
  try {
    workspace = realpathSync(opts.workspace);
  } catch {
    throw new AirlockError('workspace-missing', `workspace ${opts.workspace}: no such directory`, 'pass an existing directory with --workspace or set filesystem.workspace', 2);
  }
  const id = newSessionId();
  const dir = resolve(createSessionDir(id));
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const policy = opts.policy;

  const executables = policy.document.commands?.allow ? resolveAllowed(policy.commands.allow, hostEnv, policy.source.file.includes('(built-in') ? () => undefined : log) : undefined;
  const spec: LaunchSpec = {
    sessionId: id,
    runDir,
    argv: opts.argv,
    workspace: { hostPath: workspace, sandboxPath: workspace },
    cwd: workspace,
    env: {},
    mounts: [
      ...policy.filesystem.read.filter(exists).map((p) => ({ source: p, target: realpathSync(p), kind: 'bind' as const, readonly: true })),
      ...policy.filesystem.write.filter(exists).map((p) => ({ source: p, target: realpathSync(p), kind: 'bind' as const, readonly: false })),
    ],
    deny: deniedPaths(policy, workspace),
    prelude: [],
    executables,
    argvDeny: policy.commands.deny.map((d) => d.text),
    limits: { ...policy.runtime.limits },
    defaultLimits: { pids: DEFAULT_PIDS },
    tty: opts.tty,
  };
  timing('spec assembled', performance.now());
  const meta: SessionMeta = {
    id,
    createdAt: new Date().toISOString(),
    workspace,
    policyFile: policy.source.file,
    policyDigest: policy.source.digest,
    backend: opts.backend.name,
    argv: opts.argv,
    status: 'running',
    pid: process.pid,
    ...(opts.stage === false ? { stage: false } : {}),
  };
  writeSessionMeta(meta);

  const teardown: { name: string; fn: () => void | Promise<void> }[] = [];
  const ctx: SessionContext = {
    id,
    dir,
    runDir,
    policy,
    backend: opts.backend,
    spec,
    audit: opts.audit ?? noopSink,
    hostEnv,
    log,
    meta,
    defer: (name, fn) => teardown.push({ name, fn }),
    networkLog: opts.networkLog === true,
    stop: (reason) => {
      if (stopReason) return;
      stopReason = reason;
      log(`stopping the session: ${reason}`);
      onSignal('SIGTERM');
    },
  };
  ctx.defer('run directory', () => rmSync(runDir, { recursive: true, force: true }));
  const emit = (e: EventInput) => {
    try {
      ctx.audit.emit(e);
    } catch {
      /* a sink must not break the session */
    }
  };

  let handle: SandboxHandle | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let stopReason: string | undefined;
  let hardStop: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!handle) {
      interrupted = sig;
      return;
    }
    if (interrupted) {
      // A second signal: stop everything now.
      handle.kill('SIGKILL');
      return;
    }
    interrupted = sig;
    handle.kill(sig);
    hardStop = setTimeout(() => handle?.kill('SIGKILL'), 10_000);
    hardStop.unref();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  let result: RunResult = { sessionId: id, exitCode: EXIT_START_FAILED };
  try {
    emit({ kind: 'session', action: 'start', decision: 'info', subject: id, detail: { backend: opts.backend.name, argv: opts.argv, workspace } });
    for (const step of SESSION_STEPS) {
      if (stopReason) throw new AirlockError('session-stopped', `session stopped before the sandbox started: ${stopReason}`, 'the agent was not started (fail closed)', EXIT_START_FAILED);
      if (interrupted) throw new AirlockError('interrupted', `interrupted (${interrupted}) before the sandbox started`, undefined, 130);
      try {
        const t0 = performance.now();
        await step.start(ctx);
        timing(`step ${step.name}`, t0);
      } catch (err) {
        emit({ kind: 'session', action: 'error', decision: 'deny', subject: step.name, detail: { message: (err as Error).message } });
        if (err instanceof AirlockError) throw err;
        throw new AirlockError('session-start', `session step "${step.name}" failed: ${(err as Error).message}`, 'the agent was not started (fail closed)', EXIT_START_FAILED);
      }
    }
    // Environment last: policy + every door's additions are in ctx.spec.env now.
    spec.env = sandboxEnv(hostEnv, policy.env, spec.env, id);
    if (stopReason) throw new AirlockError('session-stopped', `session stopped before the sandbox started: ${stopReason}`, 'the agent was not started (fail closed)', EXIT_START_FAILED);
    if (interrupted) throw new AirlockError('interrupted', `interrupted (${interrupted}) before the sandbox started`, undefined, 130);
    const tLaunch = performance.now();
    handle = await opts.backend.launch(spec);
    timing('sandbox launch', tLaunch);
    const r = await handle.wait();
    timing('sandbox run', tLaunch);
    result = { sessionId: id, exitCode: r.exitCode === 0 && stopReason ? EXIT_STOPPED : r.exitCode, reason: stopReason ? `stopped: ${stopReason}` : r.reason };
    if (r.reason) log(r.reason);
    emit({ kind: 'session', action: 'end', decision: 'info', subject: id, detail: { exitCode: r.exitCode, reason: r.reason } });
  } finally {
    for (const s of signals) process.off(s, onSignal);
    if (hardStop) clearTimeout(hardStop);
    const errors: string[] = [];
    while (teardown.length) {
      const t = teardown.pop()!;
      try {
        await t.fn();
      } catch (err) {
        errors.push(`${t.name}: ${(err as Error).message}`);
      }
    }
    for (const e of errors) log(`teardown: ${e}`);
    try {
      const m = { ...readSessionMeta(id), ...meta };
      writeSessionMeta({ ...m, endedAt: new Date().toISOString(), exitCode: result.exitCode, status: result.exitCode === EXIT_START_FAILED && !handle ? 'failed' : 'ended' });
    } catch {
      /* metadata is best effort at this point */
    }
  }
  return result;
}

/** Exit code when a door failed midway and the session was stopped (the agent's own code was 0). */
export const EXIT_STOPPED = 125;

/** Process cap when the policy sets none: a fork bomb must not take the host down. */
export const DEFAULT_PIDS = 4096;

/** `AIRLOCK_TIMING=1`: how long each step took, on stderr (for tuning start-up). */
function timing(what: string, since: number): void {
  if (process.env.AIRLOCK_TIMING) process.stderr.write(`airlock: timing: ${what} ${(performance.now() - since).toFixed(1)}ms (at ${performance.now().toFixed(0)}ms since start)\n`);
}

/** Resolves `commands.allow` names to host paths (as found, symlinks kept). Missing names are reported. */
function resolveAllowed(allow: string[], hostEnv: NodeJS.ProcessEnv, log: (l: string) => void): string[] {
  const dirs = realBinDirs();
  const out: string[] = [];
  const missing: string[] = [];
  for (const name of allow) {
    const p = locate(name, dirs, hostEnv.PATH ?? '');
    if (p) out.push(p);
    else missing.push(name);
  }
  if (missing.length) log(`commands.allow: not found on this host, so not available inside: ${missing.join(', ')}`);
  return out;
}

function exists(p: string): boolean {
  try {
    realpathSync(p);
    return true;
  } catch {
    return false;
  }
}
