/**
 * What the two bubblewrap tracers (strace, eBPF) have in common once a trace line is understood:
 * turning "pid P exec'd PATH with ARGV", "pid P's exec was refused" and "pid P exited" into
 * `process` events, and a `commands.deny` shim's refusal (it exits 126) into a `policy deny`.
 * Only processes that exec'd inside the sandbox get an exit event: forked subshells that never
 * exec'd are not programs the agent ran.
 */
import type { AuditSink } from './types.js';
import { SHIM_REFUSED } from './gvisor-monitor.js';

export type TracerSource = 'strace' | 'ebpf';

export interface ExecSeen {
  pid: number;
  ppid?: number;
  path: string;
  argv: string[];
  truncated?: boolean;
  timeMs?: number;
}

export class ProcessEvents {
  readonly stats = { lines: 0, execs: 0, exits: 0 };
  private programs = new Map<number, { binary: string; shim?: { command: string; argv: string[] } }>();

  constructor(
    private readonly audit: AuditSink,
    private readonly shimCommands: Set<string>,
    private readonly source: TracerSource,
  ) {}

  exec(e: ExecSeen): void {
    const name = e.path.split('/').pop()!;
    const shim = this.shimCommands.has(name) && !e.path.startsWith('/.airlock/') ? { command: e.path, argv: [name, ...e.argv.slice(1)] } : undefined;
    this.programs.set(e.pid, { binary: e.path, shim });
    this.stats.execs++;
    this.audit.emit({ kind: 'process', action: 'exec', decision: 'allow', subject: e.path, timeMs: e.timeMs, detail: { pid: e.pid, ppid: e.ppid, argv: e.argv, truncated: e.truncated || undefined, source: this.source } });
  }

  refused(e: ExecSeen & { errno: string }): void {
    this.audit.emit({ kind: 'process', action: 'exec', decision: 'deny', subject: e.path, timeMs: e.timeMs, detail: { pid: e.pid, argv: e.argv, truncated: e.truncated || undefined, errno: e.errno, reason: 'execution refused inside the sandbox', source: this.source } });
  }

  /** Whether `pid` exec'd a program that has not exited yet. */
  running(pid: number): boolean {
    return this.programs.has(pid);
  }

  /** `signal`: the name (`SIGKILL`) when the process was killed; exitCode is then 128+number. */
  exit(pid: number, exitCode: number, signal: string | undefined, timeMs?: number): void {
    const p = this.programs.get(pid);
    if (!p) return;
    this.programs.delete(pid);
    this.stats.exits++;
    if (p.shim && exitCode === SHIM_REFUSED) this.audit.emit({ kind: 'policy', action: 'deny', decision: 'deny', subject: p.shim.command, timeMs, detail: { pid, argv: p.shim.argv, rule: 'commands.deny', reason: 'refused by a commands.deny pattern', source: this.source } });
    this.audit.emit({ kind: 'process', action: 'exit', decision: 'info', subject: p.binary, timeMs, detail: { pid, exitCode, signal, source: this.source } });
  }
}

export const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSYS: 31 };
