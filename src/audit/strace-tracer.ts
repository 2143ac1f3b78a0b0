/**
 * Process events for the bubblewrap backend, where there is no Sentry to ask: `strace` placed in
 * front of bwrap, following every fork (`-f`), stopping only at exec and fork calls thanks to
 * `--seccomp-bpf` (the kernel filters, so untraced syscalls run at full speed).
 *
 *   strace -f --seccomp-bpf -ttt -e trace=execve,execveat,fork,vfork,clone,clone3 -e signal=none
 *          -q -s 4096 -o <runDir>/strace.fifo -- bwrap ...
 *
 * strace writes to a FIFO we read; lines are parsed as they come: successful `execve` →
 * `process exec` (argv decoded from strace's C-string escapes; the environment pointer is
 * printed by strace as `0x... /* N vars *\/` — values never appear), EACCES/EPERM → exec deny,
 * `clone` results → parent pids, `+++ exited with N +++` / `+++ killed by SIG +++` → exit.
 * The first exec (bwrap itself) and bwrap's own helper processes are not the agent's: events
 * start with the first exec after bwrap's.
 *
 * What it does not see: file writes (these come exactly from the staged workspace at session
 * end) and sockets (the proxy records every request). strace runs outside the sandbox as the
 * parent of bwrap; the agent cannot detach it (ptrace from inside is blocked by the seccomp
 * filter and the PID namespace).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants as fsc, createReadStream, existsSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditSink } from './types.js';
import { AirlockError } from '../util/errors.js';
import { shimCommandNames } from './gvisor-monitor.js';
import { ProcessEvents, SIGNAL_NUMBERS } from './process-events.js';

export interface BwrapTracer {
  /** Put in front of the bwrap argv (LaunchSpec.monitor.tracerArgv). Ends with `--`. */
  argvPrefix: string[];
  fifoPath: string;
  /** Resolves (never rejects) when the trace stream breaks before stop(). */
  failed: Promise<Error>;
  stats: { lines: number; execs: number; exits: number };
  /** Drains what strace wrote and stops reading. */
  stop(): Promise<{ lines: number; execs: number; exits: number }>;
}

export interface BwrapTracerOptions {
  runDir: string;
  audit: AuditSink;
  /** strace executable (default: `strace` on PATH). */
  strace?: string;
  /** `commands.deny` patterns: refusals by their shims become `policy deny` events. */
  denyPatterns?: string[];
}

/** Checks that strace exists and supports --seccomp-bpf. */
export function straceAvailable(strace = 'strace'): string | undefined {
  const r = spawnSync(strace, ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${strace} not found (install the strace package)`;
  const m = /version (\d+)\.(\d+)/.exec(r.stdout);
  if (m && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 3))) return `${strace} ${m[1]}.${m[2]} is too old for --seccomp-bpf (need 5.3+)`;
  return undefined;
}

export async function bwrapTracer(opts: BwrapTracerOptions): Promise<BwrapTracer> {
  const strace = opts.strace ?? 'strace';
  const missing = straceAvailable(strace);
  if (missing) throw new AirlockError('monitor-start', `bwrap tracer: ${missing}`, 'the session cannot start without its monitor',125);
  const fifoPath = join(opts.runDir, 'strace.fifo');
  if (existsSync(fifoPath)) unlinkSync(fifoPath);
  const mk = spawnSync('mkfifo', ['-m', '0600', fifoPath], { encoding: 'utf8' });
  if (mk.status !== 0) throw new AirlockError('monitor-start', `bwrap tracer: cannot create ${fifoPath}: ${mk.stderr.trim() || mk.error?.message}`, 'the session cannot start without its monitor',125);

  const parser = new StraceParser(opts.audit, shimCommandNames(opts.denyPatterns ?? []));
  let resolveFailed!: (e: Error) => void;
  const failed = new Promise<Error>((r) => (resolveFailed = r));
  let stopped = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const stream = createReadStream(fifoPath, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let opened = false;
  stream.on('open', () => (opened = true));
  let buf = '';
  stream.on('data', (chunk: string | Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      parser.line(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buf) parser.line(buf);
    buf = '';
    resolveEnded();
  });
  stream.on('error', (e) => {
    if (!stopped) resolveFailed(new Error(`bwrap tracer stream error: ${e.message}`));
    resolveEnded();
  });

  return {
    argvPrefix: [strace, '-f', '--seccomp-bpf', '-ttt', '-e', 'trace=execve,execveat,fork,vfork,clone,clone3', '-e', 'signal=none', '-q', '-s', '4096', '-o', fifoPath, '--'],
    fifoPath,
    failed,
    stats: parser.stats,
    async stop() {
      if (!stopped) {
        stopped = true;
        if (!opened) {
          // strace never opened the FIFO (launch failed): open the write end ourselves so the
          // pending read-side open returns and the stream ends
          try {
            closeSync(openSync(fifoPath, fsc.O_WRONLY | fsc.O_NONBLOCK));
          } catch {
            stream.destroy();
            resolveEnded();
          }
        }
        await Promise.race([ended, new Promise((r) => setTimeout(r, 2000).unref())]);
        stream.destroy();
        try {
          unlinkSync(fifoPath);
        } catch {
          /* gone */
        }
      }
      return parser.stats;
    },
  };
}

/** Parses strace -f output lines into audit events. Exported for unit tests. */
export class StraceParser {
  private readonly events: ProcessEvents;
  readonly stats: ProcessEvents['stats'];
  private rootPid: number | undefined;
  private agentStarted = false;
  /** Every process seen: its parent (inferred) and whether it belongs to the agent (below bwrap's first exec). */
  private procs = new Map<number, { ppid?: number; agent?: boolean }>();
  private unfinished = new Map<number, string>();
  /** pids inside a fork/clone that has not returned yet (vfork returns after the child's exec). */
  private forking = new Set<number>();
  /** Parents whose fork returned and whose child has not shown up yet, oldest first. */
  private unclaimed: number[] = [];
  /** Parents whose child showed up while their fork had not returned yet. */
  private claimedEarly = new Set<number>();

  constructor(audit: AuditSink, shimCommands: Set<string> = new Set()) {
    this.events = new ProcessEvents(audit, shimCommands, 'strace');
    this.stats = this.events.stats;
  }

  line(raw: string): void {
    this.stats.lines++;
    const m = /^(\d+)\s+(?:(\d+)\.(\d{6})\s+)?(.*)$/.exec(raw);
    if (!m) return;
    const pid = Number(m[1]);
    const timeMs = m[2] ? Number(m[2]) * 1000 + Math.floor(Number(m[3]) / 1000) : undefined;
    let rest = m[4]!;
    if (this.rootPid === undefined) this.rootPid = pid;
    if (!this.procs.has(pid) && pid !== this.rootPid) {
      // A new process. strace reports fork results as pids of the sandbox's PID namespace
      // (translating them with --pidns-translation costs ~20x), so the parent is inferred: the only
      // process whose fork is still in flight (vfork, or a child that ran first), else the oldest
      // fork that returned without its child showing up. Exact for sequential shells and make-like
      // trees; best effort under heavy concurrency (gVisor's monitor and the eBPF tracer are exact).
      let parentPid: number | undefined;
      if (this.forking.size === 1) {
        parentPid = [...this.forking][0]!;
        this.claimedEarly.add(parentPid);
      } else if (this.unclaimed.length) parentPid = this.unclaimed.shift();
      const parent = parentPid !== undefined ? this.procs.get(parentPid) : undefined;
      this.procs.set(pid, { ppid: parentPid, agent: parent?.agent });
    }
    if (rest.endsWith('<unfinished ...>')) {
      const head = rest.slice(0, -'<unfinished ...>'.length).trimEnd();
      if (/^(clone3?|v?fork)\(/.test(head)) this.forking.add(pid);
      this.unfinished.set(pid, head);
      return;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(rest);
    if (resumed) {
      rest = `${this.unfinished.get(pid) ?? ''}${resumed[1]}`;
      this.unfinished.delete(pid);
      this.forking.delete(pid);
    }
    const exit = /^\+\+\+ (exited with (\d+)|killed by (SIG\w+)(?: \(core dumped\))?) \+\+\+$/.exec(rest);
    if (exit) {
      this.procs.delete(pid);
      const exitCode = exit[2] !== undefined ? Number(exit[2]) : 128 + (SIGNAL_NUMBERS[exit[3]!] ?? 0);
      this.events.exit(pid, exitCode, exit[3], timeMs); // only processes the agent exec'd are reported
      return;
    }
    const call = /^(execve|execveat|clone3?|v?fork)\((.*)\)\s+=\s+(-?\d+|\?)(?:\s+(\w+))?(?:\s+\/\* (\d+) in strace's PID NS \*\/)?/.exec(rest);
    if (!call) return;
    const [, name, args, result, errname] = call;
    if (name!.startsWith('clone') || name!.endsWith('fork')) {
      if (Number(result) > 0 && !/CLONE_THREAD/.test(args!)) {
        if (this.claimedEarly.has(pid)) this.claimedEarly.delete(pid);
        else this.unclaimed.push(pid);
      }
      return;
    }
    // execve("/bin/true", ["true", "x"], 0x7ffd... /* 35 vars */) = 0
    const parsed = parseExecArgs(name!, args!);
    if (!parsed) return;
    const ok = result === '0';
    if (pid === this.rootPid && !this.agentStarted && ok && this.procs.get(pid) === undefined) {
      this.procs.set(pid, {}); // bwrap itself
      return;
    }
    if (ok) {
      const p = this.procs.get(pid) ?? {};
      p.agent = true;
      this.agentStarted = true;
      this.procs.set(pid, p);
      this.events.exec({ pid, ppid: p.ppid, path: parsed.path, argv: parsed.argv, truncated: parsed.truncated, timeMs });
    } else if (errname === 'EACCES' || errname === 'EPERM') {
      if (!this.agentStarted && !this.procs.get(pid)?.agent) return;
      this.events.refused({ pid, path: parsed.path, argv: parsed.argv, truncated: parsed.truncated, errno: errname, timeMs });
    }
  }
}

/** Parses the argument list of an strace execve/execveat line. */
export function parseExecArgs(name: string, args: string): { path: string; argv: string[]; truncated: boolean } | undefined {
  let pos = 0;
  if (name === 'execveat') {
    const comma = args.indexOf(', ');
    if (comma < 0) return undefined;
    pos = comma + 2;
  }
  const first = readCString(args, pos);
  if (!first) return undefined;
  pos = first.end;
  if (!args.startsWith(', [', pos)) return { path: first.value, argv: [], truncated: true };
  pos += 3;
  const argv: string[] = [];
  let truncated = first.truncated;
  while (pos < args.length && args[pos] !== ']') {
    if (args.startsWith('...', pos)) {
      truncated = true;
      pos += 3;
      continue;
    }
    const s = readCString(args, pos);
    if (!s) break;
    argv.push(s.value);
    truncated ||= s.truncated;
    pos = s.end;
    if (args.startsWith(', ', pos)) pos += 2;
  }
  return { path: first.value, argv, truncated };
}

/** Reads one strace-quoted C string at `pos` (handles \n \t \" \\ \xNN \NNN and a trailing `...`). */
function readCString(s: string, pos: number): { value: string; end: number; truncated: boolean } | undefined {
  if (s[pos] !== '"') return undefined;
  const bytes: number[] = [];
  let i = pos + 1;
  while (i < s.length && s[i] !== '"') {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1]!;
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '"': 34, '\\': 92, "'": 39, '?': 63 };
      if (n in simple) {
        bytes.push(simple[n]!);
        i += 2;
      } else if (n === 'x') {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4))![0];
        bytes.push(parseInt(hex, 16));
        i += 2 + hex.length;
      } else if (/[0-7]/.test(n)) {
        const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))![0];
        bytes.push(parseInt(oct, 8) & 0xff);
        i += 1 + oct.length;
      } else {
        bytes.push(...Buffer.from(n));
        i += 2;
      }
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch));
      i += ch.length;
    }
  }
  if (i >= s.length) return undefined;
  let end = i + 1;
  let truncated = false;
  if (s.startsWith('...', end)) {
    truncated = true;
    end += 3;
  }
  return { value: Buffer.from(bytes).toString('utf8'), end, truncated };
}
