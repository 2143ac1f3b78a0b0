/**
 * Process events for the bubblewrap backend from kernel tracepoints, through Debian's `bpftrace`:
 * the preferred bwrap tracer when the host allows it (root, x86_64, BTF, tracefs), because nothing
 * in the sandbox ever stops for it. strace (strace-tracer.ts) stops every fork and exec with
 * ptrace, which cost +61% on an exec-heavy workload; this costs about 5% (docs/audit-events.md,
 * "Cost").
 *
 * How a session's processes are found: bwrap is started through a per-session symlink
 * (`<runDir>/exec/bwrap`, masked from every sandbox with the rest of $AIRLOCK_HOME). The process
 * that execs that exact path becomes the root of the traced set; `sched_process_fork` adds every
 * child of a traced task, `sched_process_exit` removes it. Membership is inherited, never
 * inferred, so parent pids are exact and no process below bwrap can leave the set.
 *
 * What is printed, one line per event, every byte string in hex (`%rx`), so nothing the agent
 * names (a file called "x\nE 1 2 ...") can forge a line:
 *   R <ns>                              ready: every probe is attached
 *   S <pid>                             the root (bwrap itself) exec'd
 *   E <pid> <ppid> <ns> <len> <n> <fn>  exec: argv block of <len> bytes, <n> of them follow in
 *   A <pid> <hex>                         200-byte chunks (capped at ARGV_CAP)
 *   D <pid> <ns> <errno> <fn>           exec refused (EACCES/EPERM), then its arguments
 *   a <pid> <hex>                         one per line (64 at most, 200 bytes each)
 *   Z <pid>                               end of the refused exec
 *   X <pid> <code> <ns>                 a process (thread-group leader) exited; wait(2) status
 *   F                                   fence: the tracer's own marker exec, see stop()
 * Times are CLOCK_MONOTONIC nanoseconds, the clock of process.hrtime.
 *
 * If bpftrace reports lost events or exits early, the trace is incomplete: `failed` resolves and
 * the session is stopped (fail closed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from './types.js';
import { AirlockError } from '../util/errors.js';
import { shimCommandNames } from './gvisor-monitor.js';
import { ProcessEvents, SIGNAL_NUMBERS } from './process-events.js';

/** Bytes of one printed chunk (bpftrace's string limit is 200). */
const CHUNK = 200;
/** argv bytes recorded per exec; longer argvs are marked `truncated`. */
export const ARGV_CAP = 100 * CHUNK;

// $1: the per-session bwrap path; $2: the fence path.
const PROGRAM = `
BEGIN { printf("R %llu\\n", nsecs); }
tracepoint:sched:sched_process_exec /!@t[tid] && str(args->filename) == str($1)/ { @t[tid] = 1; printf("S %d\\n", pid); }
tracepoint:sched:sched_process_exec /str(args->filename) == str($2)/ { printf("F\\n"); }
tracepoint:sched:sched_process_fork /@t[args->parent_pid]/ { @t[args->child_pid] = 1; }
tracepoint:sched:sched_process_exec /@t[tid]/ {
  $mm = curtask->mm; $s = $mm->arg_start; $e = $mm->arg_end; $len = $e - $s;
  if ($len > ${ARGV_CAP}) { $e = $s + ${ARGV_CAP}; }
  printf("E %d %d %llu %d %d %rx\\n", pid, curtask->real_parent->tgid, nsecs, $len, $e - $s, buf(args->filename, ${CHUNK}));
  $i = 0;
  while ($s < $e && $i < ${ARGV_CAP / CHUNK}) { $n = $e - $s; if ($n > ${CHUNK}) { $n = ${CHUNK}; } printf("A %d %rx\\n", pid, buf(uptr($s), $n)); $s += $n; $i++; }
}
tracepoint:sched:sched_process_exit /@t[tid]/ { delete(@t[tid]); if (tid == pid) { printf("X %d %d %llu\\n", pid, curtask->exit_code, nsecs); } }
tracepoint:syscalls:sys_enter_execve /@t[tid]/ { @fn[tid] = (uint64)args->filename; @av[tid] = (uint64)args->argv; }
tracepoint:syscalls:sys_enter_execveat /@t[tid]/ { @fn[tid] = (uint64)args->filename; @av[tid] = (uint64)args->argv; }
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat /@av[tid] && (args->ret == -13 || args->ret == -1)/ {
  printf("D %d %llu %d %rx\\n", pid, nsecs, -args->ret, buf(uptr(@fn[tid]), ${CHUNK}));
}
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat /@av[tid] && (args->ret == -13 || args->ret == -1)/ {
  $av = @av[tid]; $j = 0;
  while ($j < 64) {
    $p = *(uint64 *)uptr($av + (uint64)$j * 8);
    if ($p == 0) { break; }
    printf("a %d %rx\\n", pid, buf(uptr($p), ${CHUNK}));
    $j++;
  }
  printf("Z %d\\n", pid);
}
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat /@av[tid]/ { delete(@fn[tid]); delete(@av[tid]); }
END { clear(@t); clear(@fn); clear(@av); }
`;

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
let availability: string | undefined | null = null;

/**
 * Why the eBPF tracer cannot run here, or undefined. Mounts tracefs at /sys/kernel/tracing when
 * no tracefs is mounted (bpftrace reads tracepoint formats there). Cached per process.
 */
export function ebpfUnavailableReason(bpftrace = 'bpftrace'): string | undefined {
  if (availability !== null) return availability;
  availability = probe(bpftrace);
  return availability;
}

function probe(bpftrace: string): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the eBPF tracer supports linux/x64 only (this is ${process.platform}/${process.arch})`;
  if (process.geteuid?.() !== 0) return 'the eBPF tracer needs root';
  const v = spawnSync(bpftrace, ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return `${bpftrace} not found (install the bpftrace package)`;
  const m = /v(\d+)\.(\d+)/.exec(v.stdout);
  if (!m || Number(m[1]) * 1000 + Number(m[2]) < 17) return `${bpftrace} ${v.stdout.trim()} is too old (need 0.17+ for %rx)`;
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv not found (util-linux)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  if (!TRACEFS.some((d) => existsSync(join(d, 'events/sched/sched_process_exec')))) {
    const mnt = spawnSync('mount', ['-t', 'tracefs', 'tracefs', TRACEFS[0]!], { encoding: 'utf8' });
    if (mnt.status !== 0 || !existsSync(join(TRACEFS[0]!, 'events/sched/sched_process_exec'))) return `tracefs is not mounted and cannot be (${(mnt.stderr || '').trim() || 'no sched tracepoints'})`;
  }
  return undefined;
}

export interface EbpfTracer {
  /** Start bwrap through this path (LaunchSpec.monitor.bwrapPath): it is how the trace finds the session. */
  bwrapPath: string;
  /** Resolves (never rejects) when the trace breaks before stop(). */
  failed: Promise<Error>;
  stats: { lines: number; execs: number; exits: number };
  /** Waits until every event before it has been read, then stops bpftrace. */
  stop(): Promise<{ lines: number; execs: number; exits: number }>;
}

export interface EbpfTracerOptions {
  runDir: string;
  audit: AuditSink;
  /** `commands.deny` patterns: refusals by their shims become `policy deny` events. */
  denyPatterns?: string[];
  /** The real bwrap (default: `bwrap` on PATH). */
  bwrap?: string;
  bpftrace?: string;
}

export async function ebpfTracer(opts: EbpfTracerOptions): Promise<EbpfTracer> {
  const fail = (msg: string) => new AirlockError('monitor-start', `eBPF tracer: ${msg}`, 'the session cannot start without its monitor', 1);
  const bpftrace = opts.bpftrace ?? 'bpftrace';
  const why = ebpfUnavailableReason(bpftrace);
  if (why) throw fail(why);
  const bwrap = opts.bwrap ?? spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).stdout.trim();
  if (!bwrap) throw fail('bwrap is not installed');
  // The symlinks live in the session's run directory (masked from every sandbox), or in a private
  // temporary directory when that path is too long for bpftrace's 200-byte string compare.
  let dir = join(opts.runDir, 'exec');
  if (Buffer.byteLength(join(dir, 'bwrap')) > CHUNK - 10) dir = mkdtempSync(join(tmpdir(), 'airlock-exec-'));
  else {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const bwrapPath = join(dir, 'bwrap');
  const fencePath = join(dir, 'fence');
  if (Buffer.byteLength(bwrapPath) > CHUNK - 10) throw fail(`the temporary directory path is too long for a tracepoint string match (${bwrapPath})`);
  symlinkSync(realpathSync(bwrap), bwrapPath);
  symlinkSync(realpathSync('/bin/true'), fencePath);

  const parser = new EbpfTraceParser(opts.audit, shimCommandNames(opts.denyPatterns ?? []));
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bpftrace, '-B', 'line', '-e', PROGRAM, bwrapPath, fencePath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', BPFTRACE_STRLEN: String(CHUNK), BPFTRACE_PERF_RB_PAGES: '256' },
  });
  let resolveFailed!: (e: Error) => void;
  const failed = new Promise<Error>((r) => (resolveFailed = r));
  let stopping = false;
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    parser.onReady = resolve;
    child.on('error', (e) => reject(fail(`cannot start ${bpftrace}: ${e.message}`)));
    child.on('close', (code, sig) => {
      const msg = `${bpftrace} exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().slice(-500)}` : ''}`;
      reject(fail(msg));
      if (!stopping) resolveFailed(new Error(msg));
    });
  });
  parser.onLost = (msg) => {
    if (!stopping) resolveFailed(new Error(`${msg}: the trace is incomplete`));
  };
  let buf = '';
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      parser.line(buf.slice(start, nl));
      start = nl + 1;
    }
    buf = buf.slice(start);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    // bpftrace cannot raise RLIMIT_MEMLOCK without CAP_SYS_RESOURCE; kernels since 5.11 do not need it.
    for (const l of chunk.split('\n')) {
      if (!l.trim() || /RLIMIT_MEMLOCK/.test(l)) continue;
      if (/^Lost \d+ events/.test(l)) parser.onLost?.(l.trim());
      stderr = `${stderr}${l}\n`.slice(-4000);
    }
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timeout);
  }

  return {
    bwrapPath,
    failed,
    stats: parser.stats,
    async stop() {
      if (!stopping) {
        stopping = true;
        let fenceSeen = false;
        if (child.exitCode === null && child.signalCode === null) {
          // Per-CPU buffers are read in no global order: exec the fence and wait for its line, by
          // which time everything the (already exited) sandbox did has been read.
          const fenced = new Promise<boolean>((r) => (parser.onFence = () => r(true)));
          spawnSync(fencePath, { env: {} });
          fenceSeen = await Promise.race([fenced, new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
          // Everything is read. Neither SIGINT nor waiting for the exit: detaching the probes takes
          // the kernel ~0.8 s, which nobody needs to wait for.
          child.kill('SIGKILL');
        }
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        if (buf) parser.line(buf);
        buf = '';
        rmSync(dir, { recursive: true, force: true });
        if (!fenceSeen) throw new Error('the eBPF tracer did not reach the end of the trace within 5 s: the last events may be missing');
      }
      return parser.stats;
    },
  };
}

const ERRNO: Record<string, string> = { '1': 'EPERM', '13': 'EACCES' };

/** Turns the tracer's lines into audit events. Exported for unit tests. */
export class EbpfTraceParser {
  private readonly events: ProcessEvents;
  readonly stats: ProcessEvents['stats'];
  onReady?: () => void;
  onFence?: () => void;
  onLost?: (message: string) => void;
  private rootPid: number | undefined;
  /** CLOCK_MONOTONIC ns → epoch ns. */
  private readonly epochOffsetNs = Date.now() * 1e6 - Number(process.hrtime.bigint());
  private execs = new Map<number, { ppid: number; path: string; pathTruncated: boolean; timeMs: number; len: number; expect: number; chunks: Buffer[]; got: number }>();
  private refusals = new Map<number, { path: string; pathTruncated: boolean; errno: string; timeMs: number; argv: string[]; truncated: boolean }>();

  constructor(audit: AuditSink, shimCommands: Set<string> = new Set()) {
    this.events = new ProcessEvents(audit, shimCommands, 'ebpf');
    this.stats = this.events.stats;
  }

  line(raw: string): void {
    this.stats.lines++;
    const f = raw.split(' ');
    switch (f[0]) {
      case 'R':
        this.onReady?.();
        return;
      case 'F':
        this.onFence?.();
        return;
      case 'S':
        this.rootPid ??= Number(f[1]);
        return;
      case 'E': {
        const pid = Number(f[1]);
        if (pid === this.rootPid || f.length < 7) return; // bwrap itself
        const path = cString(hex(f[6]!));
        const e = { ppid: Number(f[2]), path: path.value, pathTruncated: path.truncated, timeMs: this.ms(f[3]!), len: Number(f[4]), expect: Number(f[5]), chunks: [], got: 0 };
        this.execs.set(pid, e);
        if (e.expect === 0) this.finishExec(pid);
        return;
      }
      case 'A': {
        const pid = Number(f[1]);
        const e = this.execs.get(pid);
        if (!e) return;
        const b = hex(f[2] ?? '');
        e.chunks.push(b);
        e.got += b.length;
        if (e.got >= e.expect) this.finishExec(pid);
        return;
      }
      case 'D': {
        const pid = Number(f[1]);
        if (pid === this.rootPid) return;
        const path = cString(hex(f[4] ?? ''));
        this.refusals.set(pid, { path: path.value, pathTruncated: path.truncated, errno: ERRNO[f[3]!] ?? `errno ${f[3]}`, timeMs: this.ms(f[2]!), argv: [], truncated: path.truncated });
        return;
      }
      case 'a': {
        const r = this.refusals.get(Number(f[1]));
        if (!r) return;
        const s = cString(hex(f[2] ?? ''));
        r.argv.push(s.value);
        r.truncated ||= s.truncated;
        return;
      }
      case 'Z': {
        const pid = Number(f[1]);
        const r = this.refusals.get(pid);
        if (!r) return;
        this.refusals.delete(pid);
        this.events.refused({ pid, path: r.path, argv: r.argv, truncated: r.truncated || r.argv.length >= 64, errno: r.errno, timeMs: r.timeMs });
        return;
      }
      case 'X': {
        const pid = Number(f[1]);
        const status = Number(f[2]);
        const sig = status & 0x7f;
        const signal = sig ? (Object.keys(SIGNAL_NUMBERS).find((k) => SIGNAL_NUMBERS[k] === sig) ?? `SIG${sig}`) : undefined;
        this.events.exit(pid, sig ? 128 + sig : (status >> 8) & 0xff, signal, this.ms(f[3]!));
        return;
      }
      default:
        if (/^Lost \d+ events/.test(raw)) this.onLost?.(raw.trim());
    }
  }

  private finishExec(pid: number): void {
    const e = this.execs.get(pid)!;
    this.execs.delete(pid);
    const block = Buffer.concat(e.chunks);
    const parts: string[] = [];
    let start = 0;
    for (let i = 0; i < block.length; i++) {
      if (block[i] === 0) {
        parts.push(block.toString('utf8', start, i));
        start = i + 1;
      }
    }
    const truncated = e.pathTruncated || e.len > e.expect || start < block.length;
    if (start < block.length) parts.push(block.toString('utf8', start));
    this.events.exec({ pid, ppid: e.ppid, path: e.path, argv: parts, truncated, timeMs: e.timeMs });
  }

  private ms(ns: string): number {
    return Math.round((Number(ns) + this.epochOffsetNs) / 1e6);
  }
}

/** bpftrace's `%rx`: `\x2f\x62...`. */
function hex(s: string): Buffer {
  return Buffer.from(s.replaceAll('\\x', ''), 'hex');
}

/** The string up to the first NUL of a fixed-size read; no NUL means it was cut at the read size. */
function cString(b: Buffer): { value: string; truncated: boolean } {
  const nul = b.indexOf(0);
  return nul < 0 ? { value: b.toString('utf8'), truncated: true } : { value: b.toString('utf8', 0, nul), truncated: false };
}
