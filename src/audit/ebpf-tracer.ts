/**
 * Process events for the bubblewrap backend from kernel tracepoints, through Debian's `bpftrace`:
 * the preferred bwrap tracer when the host allows it (root, x86_64, BTF, tracefs), because nothing
 * in the sandbox ever stops for it. strace (strace-tracer.ts) stops every fork and exec with
 * ptrace, which cost +61% on an exec-heavy workload; this costs about 5% (docs/audit-events.md,
 * "Cost").
 *
 * How a session's processes are found: bwrap is started through a per-session symlink
 * (`<runDir>/exec/bwrap`, masked from every sandbox with the rest of $AIRLOCK_HOME). The first
 * process that execs that exact path becomes the root of the traced set, and only the first: a
 * later exec of the path (another session's agent that could reach it) joins nothing.
 * `sched_process_fork` adds every child of a traced task (threads too), `sched_process_exit`
 * removes it. Membership is inherited,
 * never inferred, so parent pids are exact and no process below bwrap can leave the set. A thread
 * that execs takes over its process id (and the old leader "exits" first): a probe before the
 * exec probe moves the membership from the thread's old id.
 *
 * What is printed, one line per event, every byte string in hex (`%rx`), so nothing the agent
 * names (a file called "x\nE 1 2 ...") can forge a line:
 *   R                                        ready: every probe is attached
 *   S <pid>                                  the root (bwrap itself) exec'd
 *   P <pid> <fn>                             a program path longer than SHORT_PATH, before its E
 *   E <cpu> <pid> <ppid> <ns> <len> <fn>     exec: argv block of <len> bytes; the first ARGV_CAP
 *   A <pid> <hex>                              of them follow in 200-byte chunks
 *   D <cpu> <pid> <ns> <errno> <fn>          exec refused (EACCES/EPERM), then its arguments
 *   a <pid> <hex>                              one per line (64 at most, 200 bytes each)
 *   Z <pid>                                    end of the refused exec
 *   X <cpu> <pid> <status> <ns>              a process (thread-group leader) exited; wait(2) status
 *   H <cpu> <ns>                             heartbeat, every 100 ms on every busy CPU
 *   F <cpu> <ns>                             fence: the tracer's own marker exec (see stop())
 * Times are CLOCK_MONOTONIC nanoseconds, the clock of process.hrtime.
 *
 * Ordering: the kernel hands bpftrace one buffer per CPU, and a busy bpftrace can read one CPU's
 * buffer long after another's, so a process's exit (on CPU 1) can be read before its exec (on CPU
 * 0). Each CPU's own stream is in time order, though: the parser holds finished records until
 * every CPU has shown a later time, and emits them sorted by time. Busy CPUs show it through
 * heartbeats; an idle CPU fires none, so records older than HOLD_NS are emitted anyway, and an
 * exit that arrives before its exec waits for it. stop()
 * runs the fence on every CPU (taskset) and waits until each CPU's stream has passed the moment it
 * was called, so nothing the (already exited) sandbox did is left unread.
 *
 * If bpftrace reports lost events or exits early, the trace is incomplete: `failed` resolves and
 * the session is stopped (fail closed). One limit is not detected: the traced set is a bpftrace
 * map of MAP_KEYS entries, so a sandbox running more tasks than that at once would leave the
 * excess untraced. airlock's default pids limit is 4,096; a policy that allows more than half the
 * map gets strace instead (session-step.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from './types.js';
import { AirlockError } from '../util/errors.js';
import { ERRNO, shimCommandNames } from './gvisor-monitor.js';
import { ProcessEvents, SIGNAL_NUMBERS } from './process-events.js';

/** Bytes of one printed chunk (bpftrace's string limit is 200). */
const CHUNK = 200;
/**
 * Entries of each bpftrace map (default 4096): the traced set holds every live task (threads
 * included) of the sandbox, and a full map would silently leave new ones untraced. 16× the default
 * pids limit of a session (DEFAULT_PIDS); about 5 MiB per map.
 */
export const MAP_KEYS = 65_536;
/** Bounds of the interval between two reads of bpftrace's output. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 50;
/**
 * How old (by the clock) a finished record may get while some CPU (an idle one: no heartbeats)
 * has not shown a later time. Under heavy load one CPU's buffer can be read seconds after
 * another's, so an exit may still overtake its exec: such an exit waits (parked) for its exec.
 */
const HOLD_NS = 10e9;
/** How long stop() waits for bpftrace to read everything up to the end of the session (a loaded host can put it seconds behind). */
const CATCH_UP_MS = 30_000;
/**
 * Bytes of the program path printed with every exec. Hex formatting is most of bpftrace's cost per
 * event, so a longer path is printed whole only when it is longer, on a line of its own.
 */
const SHORT_PATH = 48;
/** argv bytes recorded per exec; longer argvs are marked `truncated`. */
export const ARGV_CAP = 100 * CHUNK;

// $1: the per-session bwrap path; $2: the fence path.
const PROGRAM = `
BEGIN { printf("R\\n"); }
profile:ms:100 { printf("H %d %llu\\n", cpu, nsecs); }
tracepoint:sched:sched_process_exec /!@seeded && !@t[tid] && str(args->filename) == str($1)/ { @seeded = 1; @t[tid] = 1; printf("S %d\\n", pid); }
tracepoint:sched:sched_process_exec /str(args->filename) == str($2)/ { printf("F %d %llu\\n", cpu, nsecs); }
tracepoint:sched:sched_process_fork /@t[args->parent_pid]/ { @t[args->child_pid] = 1; }
tracepoint:sched:sched_process_exec /!@t[tid]/ { $old = args->old_pid; if (@t[$old]) { @t[tid] = 1; delete(@t[$old]); } }
tracepoint:sched:sched_process_exec /@t[tid] && str(args->filename, ${SHORT_PATH}) != str(args->filename)/ { @long[tid] = 1; }
tracepoint:sched:sched_process_exec /@long[tid]/ { delete(@long[tid]); printf("P %d %rx\\n", pid, buf(args->filename, ${CHUNK})); }
tracepoint:sched:sched_process_exec /@t[tid]/ {
  $mm = curtask->mm; $s = $mm->arg_start; $e = $mm->arg_end; $len = $e - $s;
  if ($len > ${ARGV_CAP}) { $e = $s + ${ARGV_CAP}; }
  printf("E %d %d %d %llu %d %rx\\n", cpu, pid, curtask->real_parent->tgid, nsecs, $len, buf(args->filename, ${SHORT_PATH}));
  $i = 0;
  while ($s < $e && $i < ${ARGV_CAP / CHUNK}) { $n = $e - $s; if ($n > ${CHUNK}) { $n = ${CHUNK}; } printf("A %d %rx\\n", pid, buf(uptr($s), $n)); $s += $n; $i++; }
}
tracepoint:sched:sched_process_exit /@t[tid]/ { delete(@t[tid]); if (tid == pid) { printf("X %d %d %d %llu\\n", cpu, pid, curtask->exit_code, nsecs); } }
tracepoint:syscalls:sys_enter_execve /@t[tid]/ { @fn[tid] = (uint64)args->filename; @av[tid] = (uint64)args->argv; }
tracepoint:syscalls:sys_enter_execveat /@t[tid]/ { @fn[tid] = (uint64)args->filename; @av[tid] = (uint64)args->argv; }
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat /@av[tid] && (args->ret == -13 || args->ret == -1)/ {
  printf("D %d %d %llu %d %rx\\n", cpu, pid, nsecs, -args->ret, buf(uptr(@fn[tid]), ${CHUNK}));
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
END { clear(@t); clear(@fn); clear(@av); clear(@long); clear(@seeded); }
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
  for (const tool of ['setpriv', 'taskset']) if (spawnSync(tool, ['--version']).status !== 0) return `${tool} not found (util-linux)`;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  if (!TRACEFS.some((d) => existsSync(join(d, 'events/sched/sched_process_exec')))) {
    const mnt = spawnSync('mount', ['-t', 'tracefs', 'tracefs', TRACEFS[0]!], { encoding: 'utf8' });
    if (mnt.status !== 0 || !existsSync(join(TRACEFS[0]!, 'events/sched/sched_process_exec'))) return `tracefs is not mounted and cannot be (${(mnt.stderr || '').trim() || 'no sched tracepoints'})`;
  }
  return undefined;
}

/**
 * The process tracer for bwrap: `AIRLOCK_BWRAP_TRACER=ebpf|strace` when set (an unusable choice
 * is an error at session start), else eBPF when this host allows it (it never stops the sandbox's
 * processes), else strace.
 */
export function bwrapTracerChoice(env: NodeJS.ProcessEnv = process.env): 'ebpf' | 'strace' {
  const forced = env.AIRLOCK_BWRAP_TRACER;
  if (forced === 'ebpf' || forced === 'strace') return forced;
  if (forced) throw new AirlockError('monitor-start', `AIRLOCK_BWRAP_TRACER=${forced}: expected ebpf or strace`, 'unset it to let airlock choose', 2);
  return ebpfUnavailableReason() === undefined ? 'ebpf' : 'strace';
}

export interface EbpfTracer {
  /** Start bwrap through this path (LaunchSpec.monitor.bwrapPath): it is how the trace finds the session. */
  bwrapPath: string;
  /** Resolves (never rejects) when the trace breaks before stop(). */
  failed: Promise<Error>;
  stats: { lines: number; execs: number; exits: number };
  /**
   * Waits until every event before it has been read, then stops bpftrace. `tracerCpuMs`: the CPU
   * bpftrace used between ready and stop (its start-up, ~1 s of compiling, is not included).
   */
  stop(): Promise<{ lines: number; execs: number; exits: number; tracerCpuMs?: number }>;
  /** Resolves when the bpftrace process is gone (after stop(), the kernel takes ~1 s to detach it). */
  exited: Promise<void>;
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
  const fail = (msg: string) => new AirlockError('monitor-start', `eBPF tracer: ${msg}`, 'the session cannot start without its monitor',125);
  const bpftrace = opts.bpftrace ?? 'bpftrace';
  const why = ebpfUnavailableReason(bpftrace);
  if (why) throw fail(why);
  const bwrap = opts.bwrap ?? spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).stdout.trim();
  if (!bwrap) throw fail('bwrap is not installed');
  const cpus = onlineCpus();
  if (!cpus.length) throw fail('cannot read the online CPUs (/sys/devices/system/cpu/online)');
  // The symlink lives in the session's run directory (masked from every sandbox), or in a private
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

  // bpftrace writes a line at a time. Reading each as it comes would wake airlock hundreds of times
  // a second on a busy sandbox (~130 µs of CPU each here, taken from the sandbox's cores), so its
  // stdout is a FIFO that poll() reads in batches. While the FIFO (64 KiB) is full, bpftrace waits
  // and the kernel buffers (bufferPages) hold the events.
  const fifo = join(dir, 'trace.fifo');
  const mk = spawnSync('mkfifo', ['-m', '0600', fifo], { encoding: 'utf8' });
  if (mk.status !== 0) throw fail(`cannot create ${fifo}: ${mk.stderr.trim() || mk.error?.message}`);
  const rfd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  const wfd = openSync(fifo, fsc.O_WRONLY);

  const parser = new EbpfTraceParser(opts.audit, shimCommandNames(opts.denyPatterns ?? []), cpus);
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bpftrace, '-B', 'line', '-e', PROGRAM, bwrapPath, fencePath], {
    stdio: ['ignore', wfd, 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', BPFTRACE_STRLEN: String(CHUNK), BPFTRACE_PERF_RB_PAGES: String(bufferPages(cpus.length)), BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS) },
  });
  closeSync(wfd);
  let resolveFailed!: (e: Error) => void;
  const failed = new Promise<Error>((r) => (resolveFailed = r));
  let stopping = false;
  let stderr = '';
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    parser.onReady = resolve;
    child.on('error', (e) => reject(fail(`cannot start ${bpftrace}: ${e.message}`)));
    child.on('close', (code, sig) => {
      const msg = `${bpftrace} exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().slice(-500)}` : ''}`;
      reject(fail(msg));
      if (!stopping) resolveFailed(new Error(msg));
    });
  });
  // Lost events mean unrecorded actions: the session stops if it still runs, and stop() says so
  // if the loss is only read while catching up at the end.
  let lostEvents = 0;
  const lost = (msg: string) => {
    lostEvents += Number(/\d+/.exec(msg)?.[0] ?? 1);
    if (!stopping) resolveFailed(new Error(`${msg}: the trace is incomplete`));
  };
  parser.onLost = lost;
  const reader = new FifoLines(rfd, (l) => parser.line(l));
  let interval = POLL_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    const n = reader.drain();
    parser.flush();
    // quiet: back off; a full batch: come back soon
    interval = n >= 32 * 1024 ? POLL_MIN_MS : n === 0 ? Math.min(POLL_MAX_MS, interval * 2) : interval;
    timer = reader.eof ? undefined : setTimeout(poll, interval);
  };
  timer = setTimeout(poll, interval);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    // bpftrace cannot raise RLIMIT_MEMLOCK without CAP_SYS_RESOURCE; kernels since 5.11 do not need it.
    for (const l of chunk.split('\n')) {
      if (!l.trim() || /RLIMIT_MEMLOCK/.test(l)) continue;
      if (/^Lost \d+ events/.test(l)) lost(l.trim());
      stderr = `${stderr}${l}\n`.slice(-4000);
    }
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await ready;
  } catch (err) {
    clearTimeout(timer);
    closeSync(rfd);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timeout);
  }

  const cpuAtReady = processCpuMs(child.pid);
  let tracerCpuMs: number | undefined;

  return {
    bwrapPath,
    failed,
    exited,
    stats: parser.stats,
    async stop() {
      if (!stopping) {
        stopping = true;
        interval = POLL_MIN_MS;
        let complete = false;
        if (child.exitCode === null && child.signalCode === null) {
          const caughtUp = parser.whenEveryCpuPasses(Number(process.hrtime.bigint()));
          for (const cpu of cpus) spawnSync('taskset', ['-c', String(cpu), fencePath], { env: {} });
          complete = await Promise.race([caughtUp.then(() => true), exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), CATCH_UP_MS).unref())]);
          tracerCpuMs = processCpuMs(child.pid) - cpuAtReady;
          // Everything is read. No SIGINT and no waiting for the exit: detaching the probes takes
          // the kernel ~0.8 s, which nobody needs to wait for.
          child.kill('SIGKILL');
        }
        clearTimeout(timer);
        reader.drain();
        closeSync(rfd);
        reader.end();
        child.stderr!.destroy();
        child.unref();
        parser.flush(true);
        rmSync(dir, { recursive: true, force: true });
        if (lostEvents) throw new Error(`the eBPF tracer lost ${lostEvents} events: the trace is incomplete`);
        if (!complete) throw new Error(`the eBPF tracer did not catch up with the end of the session within ${CATCH_UP_MS / 1000} s: the last events may be missing`);
      }
      return { ...parser.stats, tracerCpuMs };
    },
  };
}

/**
 * Pages per CPU of the kernel-to-bpftrace buffers: 64 MiB in all, 1-16 MiB per CPU (a power of
 * two). A burst of execs with long argvs fills them faster than bpftrace prints them; what
 * overflows is lost and fails the session.
 */
export function bufferPages(cpuCount: number): number {
  const perCpu = Math.min(16, Math.max(1, 64 / Math.max(1, cpuCount))) * 256;
  return 2 ** Math.floor(Math.log2(perCpu));
}

/** Reads the lines written to a FIFO opened non-blocking, as many as are there, without waiting. */
class FifoLines {
  eof = false;
  private pending = '';
  private readonly chunk = Buffer.alloc(256 * 1024);

  constructor(
    private readonly fd: number,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Reads what is there; returns the byte count. */
  drain(): number {
    let total = 0;
    while (!this.eof) {
      let n: number;
      try {
        n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw err;
      }
      if (n === 0) this.eof = true;
      total += n;
      this.pending += this.chunk.toString('latin1', 0, n);
      let start = 0;
      let nl: number;
      while ((nl = this.pending.indexOf('\n', start)) >= 0) {
        this.onLine(this.pending.slice(start, nl));
        start = nl + 1;
      }
      this.pending = this.pending.slice(start);
    }
    return total;
  }

  /** Hands over a last line without its newline. */
  end(): void {
    if (this.pending) this.onLine(this.pending);
    this.pending = '';
  }
}

/** user+system CPU ms of a live process (/proc/PID/stat, clock ticks of 10 ms); NaN if unreadable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Parses /sys/devices/system/cpu/online ("0-3,5"). */
export function onlineCpus(text?: string): number[] {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/sys/devices/system/cpu/online', 'utf8');
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const part of t.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return [];
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

type Finished =
  | { ns: number; kind: 'exec'; pid: number; ppid: number; path: string; argv: string[]; truncated: boolean }
  | { ns: number; kind: 'refused'; pid: number; path: string; argv: string[]; truncated: boolean; errno: string }
  | { ns: number; kind: 'exit'; pid: number; status: number };

/**
 * Turns the tracer's lines into audit events, in time order across CPUs (see the header).
 * Exported for unit tests.
 */
export class EbpfTraceParser {
  private readonly events: ProcessEvents;
  readonly stats: ProcessEvents['stats'];
  onReady?: () => void;
  onLost?: (message: string) => void;
  private rootPid: number | undefined;
  /** CLOCK_MONOTONIC ns → epoch ns. */
  private readonly epochOffsetNs = Date.now() * 1e6 - Number(process.hrtime.bigint());
  /** The latest time each CPU's stream has reached. */
  private readonly seen = new Map<number, number>();
  private execs = new Map<number, { ns: number; ppid: number; path: string; pathTruncated: boolean; len: number; expect: number; chunks: Buffer[]; got: number }>();
  private refusals = new Map<number, { ns: number; path: string; errno: string; argv: string[]; truncated: boolean }>();
  private finished: Finished[] = [];
  /** Whole program paths (P lines) waiting for their E line. */
  private longPaths = new Map<number, { value: string; truncated: boolean }>();
  /** Exits read before their exec (see HOLD_NS), or of processes that never exec'd. */
  private parkedExits = new Map<number, Extract<Finished, { kind: 'exit' }>>();
  private waiters: { ns: number; resolve: () => void }[] = [];

  constructor(
    audit: AuditSink,
    shimCommands: Set<string> = new Set(),
    private readonly cpus: number[] = [0],
  ) {
    this.events = new ProcessEvents(audit, shimCommands, 'ebpf');
    this.stats = this.events.stats;
  }

  /** Resolves once every CPU's stream has passed `ns` (CLOCK_MONOTONIC). */
  whenEveryCpuPasses(ns: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ ns, resolve });
      this.checkWaiters();
    });
  }

  line(raw: string): void {
    this.stats.lines++;
    const f = raw.split(' ');
    switch (f[0]) {
      case 'H':
      case 'F':
        this.reached(Number(f[1]), Number(f[2]));
        return;
      case 'R':
        this.onReady?.();
        return;
      case 'S':
        this.rootPid ??= Number(f[1]);
        return;
      case 'P':
        this.longPaths.set(Number(f[1]), cString(hex(f[2] ?? '')));
        return;
      case 'E': {
        const [cpu, pid, ppid, ns, len] = f.slice(1, 6).map(Number) as [number, number, number, number, number];
        this.reached(cpu, ns);
        const path = this.longPaths.get(pid) ?? cString(hex(f[6] ?? ''));
        this.longPaths.delete(pid);
        if (pid === this.rootPid) return; // bwrap itself
        const expect = Math.min(len, ARGV_CAP);
        this.execs.set(pid, { ns, ppid, path: path.value, pathTruncated: path.truncated, len, expect, chunks: [], got: 0 });
        if (expect === 0) this.finishExec(pid);
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
        const [cpu, pid, ns] = f.slice(1, 4).map(Number) as [number, number, number];
        this.reached(cpu, ns);
        if (pid === this.rootPid) return;
        const path = cString(hex(f[5] ?? ''));
        this.refusals.set(pid, { ns, path: path.value, errno: ERRNO[Number(f[4])] ?? `errno ${f[4]}`, argv: [], truncated: path.truncated });
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
        this.finished.push({ kind: 'refused', pid, ...r, truncated: r.truncated || r.argv.length >= 64 });
        return;
      }
      case 'X': {
        const [cpu, pid, status, ns] = f.slice(1, 5).map(Number) as [number, number, number, number];
        this.reached(cpu, ns);
        this.finished.push({ kind: 'exit', ns, pid, status });
        return;
      }
      default:
        if (/^Lost \d+ events/.test(raw)) this.onLost?.(raw.trim());
    }
  }

  /**
   * Emits, in time order, the finished records no CPU can still precede: older than every CPU's
   * latest time and than every record still being read. `all`: everything finished (at stop).
   */
  flush(all = false): void {
    if (all) {
      // A record still being read at the end lost its tail: keep what arrived, marked truncated.
      for (const pid of [...this.execs.keys()]) this.finishExec(pid, true);
      for (const [pid, r] of this.refusals) this.finished.push({ kind: 'refused', pid, ...r, truncated: true });
      this.refusals.clear();
    }
    if (!this.finished.length) return;
    let horizon = Infinity;
    if (!all) {
      for (const c of this.cpus) horizon = Math.min(horizon, this.seen.get(c) ?? -Infinity);
      horizon = Math.max(horizon, Number(process.hrtime.bigint()) - HOLD_NS);
      for (const e of this.execs.values()) horizon = Math.min(horizon, e.ns);
      for (const r of this.refusals.values()) horizon = Math.min(horizon, r.ns);
    }
    this.finished.sort((x, y) => x.ns - y.ns);
    let n = 0;
    while (n < this.finished.length && this.finished[n]!.ns <= horizon) n++;
    for (const r of this.finished.splice(0, n)) this.emit(r);
    // Parked exits of processes that never exec'd (forked subshells) are not events.
    const old = all ? Infinity : Number(process.hrtime.bigint()) - 2 * HOLD_NS;
    for (const [pid, x] of this.parkedExits) if (x.ns < old) this.parkedExits.delete(pid);
  }

  private emit(r: Finished): void {
    const timeMs = Math.round((r.ns + this.epochOffsetNs) / 1e6);
    if (r.kind === 'exec') {
      this.events.exec({ pid: r.pid, ppid: r.ppid, path: r.path, argv: r.argv, truncated: r.truncated, timeMs });
      const x = this.parkedExits.get(r.pid);
      if (x && x.ns >= r.ns) {
        this.parkedExits.delete(r.pid);
        this.emit(x);
      }
    } else if (r.kind === 'refused') this.events.refused({ pid: r.pid, path: r.path, argv: r.argv, truncated: r.truncated, errno: r.errno, timeMs });
    else if (!this.events.running(r.pid)) this.parkedExits.set(r.pid, r);
    else {
      const sig = r.status & 0x7f;
      const signal = sig ? (Object.keys(SIGNAL_NUMBERS).find((k) => SIGNAL_NUMBERS[k] === sig) ?? `SIG${sig}`) : undefined;
      this.events.exit(r.pid, sig ? 128 + sig : (r.status >> 8) & 0xff, signal, timeMs);
    }
  }

  private reached(cpu: number, ns: number): void {
    if (ns > (this.seen.get(cpu) ?? -Infinity)) this.seen.set(cpu, ns);
    if (this.waiters.length) this.checkWaiters();
  }

  private checkWaiters(): void {
    const low = Math.min(...this.cpus.map((c) => this.seen.get(c) ?? -Infinity));
    this.waiters = this.waiters.filter((w) => {
      if (low < w.ns) return true;
      w.resolve();
      return false;
    });
  }

  private finishExec(pid: number, cut = false): void {
    const e = this.execs.get(pid)!;
    this.execs.delete(pid);
    const block = Buffer.concat(e.chunks);
    const argv: string[] = [];
    let start = 0;
    for (let i = 0; i < block.length; i++) {
      if (block[i] === 0) {
        argv.push(block.toString('utf8', start, i));
        start = i + 1;
      }
    }
    if (start < block.length) argv.push(block.toString('utf8', start));
    this.finished.push({ kind: 'exec', ns: e.ns, pid, ppid: e.ppid, path: e.path, argv, truncated: cut || e.pathTruncated || e.len > e.expect || start < block.length });
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
