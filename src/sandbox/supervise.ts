/**
 * What both backends share around the process: preparing the view (bin directories, shims, mask
 * files) in the run directory, and supervising the launched process — wall-time limit, signal
 * delivery, exit-code mapping, and teardown that runs exactly once on every path.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argvPatternToRegExp } from '../policy/index.js';
import { prepareExecutableView, type ExecutableView } from './executables.js';
import { buildMountPlan, type MountPlan } from './mount-plan.js';
import type { LaunchSpec, SandboxHandle } from './types.js';

/** Exit code when the wall-time limit ends the session (as timeout(1)). */
export const EXIT_WALLTIME = 124;

export interface Prepared {
  plan: MountPlan;
  view?: ExecutableView;
  /** An empty regular file and an empty directory used as masks. */
  emptyFile: string;
  emptyDir: string;
}

export function prepareView(spec: LaunchSpec): Prepared {
  mkdirSync(spec.runDir, { recursive: true, mode: 0o700 });
  const emptyFile = join(spec.runDir, 'empty');
  writeFileSync(emptyFile, '', { mode: 0o444 });
  const emptyDir = join(spec.runDir, 'emptydir');
  mkdirSync(emptyDir, { recursive: true, mode: 0o555 });
  let view: ExecutableView | undefined;
  if (spec.executables) {
    const deny = (spec.argvDeny ?? []).map((text) => ({ text, re: argvPatternToRegExp(text) }));
    view = prepareExecutableView(join(spec.runDir, 'view'), spec.executables, deny);
  }
  const plan = buildMountPlan(spec, { binViews: view?.binViews, extraBinds: view?.extraBinds });
  return { plan, view, emptyFile, emptyDir };
}

export interface SuperviseOptions {
  child: ChildProcess;
  wallTimeMs?: number;
  /** Deliver a signal to the agent (forwarding). */
  signal(sig: NodeJS.Signals): void;
  /** Stop everything now (wall time, or a second interrupt). */
  killAll(): void;
  /** Decide why the sandbox ended, after it exited (limits hit). */
  diagnose?(exit: { exitCode: number; signal?: string }): string | undefined;
  teardown(): Promise<void> | void;
}

export function supervise(opts: SuperviseOptions): SandboxHandle {
  const { child } = opts;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  if (opts.wallTimeMs) {
    timer = setTimeout(() => {
      timedOut = true;
      opts.killAll();
    }, opts.wallTimeMs);
  }
  const exited = new Promise<{ exitCode: number; signal?: string }>((resolve) => {
    child.once('error', () => resolve({ exitCode: 127 }));
    // 'close' waits until relayed stdio is drained; a descendant holding a pipe open cannot stall
    // the session for more than a second after the exit.
    const settle = (code: number | null, sig: NodeJS.Signals | null) => resolve(sig ? { exitCode: 128 + signalNumber(sig), signal: sig } : { exitCode: code ?? 1 });
    child.once('close', settle);
    child.once('exit', (code, sig) => setTimeout(() => settle(code, sig), 1000).unref());
  });
  let done: Promise<{ exitCode: number; signal?: string; reason?: string }> | undefined;
  return {
    pid: child.pid ?? -1,
    kill(sig: NodeJS.Signals = 'SIGTERM') {
      if (sig === 'SIGKILL') opts.killAll();
      else opts.signal(sig);
    },
    wait() {
      done ??= (async () => {
        const r = await exited;
        if (timer) clearTimeout(timer);
        let reason: string | undefined;
        try {
          reason = timedOut ? `wall-time limit of ${Math.round(opts.wallTimeMs! / 1000)}s reached; the sandbox was killed` : opts.diagnose?.(r);
        } finally {
          await opts.teardown();
        }
        return timedOut ? { exitCode: EXIT_WALLTIME, reason } : { ...r, reason };
      })();
      return done;
    },
  };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSYS: 31, SIGABRT: 6, SIGBUS: 7 };
export function signalNumber(sig: string): number {
  return SIGNALS[sig] ?? 1;
}
