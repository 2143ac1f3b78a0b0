/**
 * gVisor runtime monitoring → audit events. No ptrace, no kernel module: the gVisor Sentry
 * itself reports trace points to a "remote" sink, a SOCK_SEQPACKET unix socket we listen on.
 *
 * - `startGvisorMonitor` listens on `<runDir>/gvisor-monitor.sock` (node-unix-socket accepts:
 *   Node's `net` has no SEQPACKET; the N-API addon is prebuilt, so no relay process and no
 *   second moving part; the connection is then polled in batches, see seqpacket-listener.ts) and
 *   writes `<runDir>/pod-init.json` for `runsc --pod-init-config`. runsc connects before the
 *   sandbox starts and fails to start without a listener (exit 128), so a monitor that is not
 *   running means no session.
 * - Wire: the Sentry sends `Handshake{version}` (bytes `08 01`), we answer `08 01`; then each
 *   packet is an 8-byte little-endian header `u16 header_size | u16 message_type | u32
 *   dropped_count` followed by one protobuf message (decoded by protowire.ts).
 * - Mapping: container/start and sentry/execve → `process exec`; syscall/execve|execveat exit
 *   with EACCES/EPERM → `process exec` deny; sentry/task_exit of a thread-group leader →
 *   `process exit` (exit code decoded from the wait status); sentry/clone → parent pids;
 *   open/openat/creat exits that open for writing (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC) →
 *   `file open` (allow, or deny on EACCES/EPERM/EROFS; one event per process and path);
 *   connect exits → `network connect` (`detail.source: "gvisor"`); a command with `commands.deny`
 *   patterns whose shim exits 126 without exec'ing the real program → `policy deny`. Read-only
 *   opens are only counted.
 * - Environment variables are never recorded: ExecveInfo.env arrives even when not requested and
 *   may hold secret placeholders; it is dropped at decode time.
 * - The cumulative `dropped_count` is surfaced as `session monitor-dropped` events (rate-limited)
 *   and in the stats: a non-zero value means the record is incomplete. The sink is configured to
 *   retry long (40 retries, backoff up to 25 ms) before the Sentry drops a message: when airlock
 *   falls behind (a loaded machine), the sandbox is slowed down rather than the record thinned
 *   (measured: 3 retries/10 ms dropped ~100 of ~2000 messages under load average 20; 40/25 ms: 0).
 * - `failed` resolves when the stream breaks (socket error, undecodable packet) before `stop()`:
 *   the session must then stop the sandbox and say why.
 */
import { writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { listenSeqpacket, type PolledConnection, type SeqpacketListener } from './seqpacket-listener.js';
import type { AuditSink, EventInput } from './types.js';
import { decode, int, uint, msg, str, strs, bytes, peekField, peekInt, ProtoError, type Fields } from './protowire.js';
import { AirlockError } from '../util/errors.js';

export const MSG = {
  CONTAINER_START: 1,
  SENTRY_CLONE: 2,
  SENTRY_EXEC: 3,
  EXIT_NOTIFY_PARENT: 4,
  TASK_EXIT: 5,
  SYSCALL_RAW: 6,
  OPEN: 7,
  CLOSE: 8,
  READ: 9,
  CONNECT: 10,
  SYSCALL_EXECVE: 11,
} as const;

// Context fields cost Sentry work on every message (cwd is a path walk), so each point asks only
// for what its events use. container_id is constant for the session: only container/start has it.
const WHO = ['thread_id', 'group_id'];
const EXEC_CONTEXT = ['time', ...WHO, 'cwd', 'process_name'];
const START_CONTEXT = [...EXEC_CONTEXT, 'container_id'];

/**
 * The trace points we ask for, and what each buys (none has a Sentry-side filter, so every call
 * of a traced syscall is one message):
 * - container/start: the agent's first process (argv, cwd, container).
 * - sentry/clone: the parent of every new process (ppid), which no other point carries. No event.
 * - sentry/execve: every successful exec, with the binary actually run (symlinks resolved) and argv.
 * - sentry/task_exit: exit code or signal of each process.
 * - syscall/execve|execveat/exit: refused execs (EACCES/EPERM), which sentry/execve never sees.
 * - syscall/openat|open|creat/exit (files): opens that can write, allowed or refused — writes
 *   outside the staged workspace (other filesystem.write paths, /tmp), refused writes to the
 *   read-only root, files created and removed within the session, and who wrote what; none of
 *   these is visible in the workspace diff. Read-only opens are counted and dropped.
 * - syscall/connect/exit (network): socket-level connects, including attempts that fail inside.
 */
export function tracePoints(opts: { files?: boolean; network?: boolean } = {}): { name: string; optional_fields?: string[]; context_fields: string[] }[] {
  const pts: { name: string; optional_fields?: string[]; context_fields: string[] }[] = [
    { name: 'container/start', context_fields: START_CONTEXT },
    { name: 'sentry/clone', context_fields: WHO },
    { name: 'sentry/execve', context_fields: EXEC_CONTEXT },
    { name: 'sentry/task_exit', context_fields: ['time', ...WHO, 'process_name'] },
    { name: 'syscall/execve/exit', context_fields: EXEC_CONTEXT },
    { name: 'syscall/execveat/exit', optional_fields: ['fd_path'], context_fields: EXEC_CONTEXT },
  ];
  if (opts.files !== false) {
    pts.push({ name: 'syscall/openat/exit', optional_fields: ['fd_path'], context_fields: EXEC_CONTEXT });
    pts.push({ name: 'syscall/open/exit', context_fields: EXEC_CONTEXT });
    pts.push({ name: 'syscall/creat/exit', optional_fields: ['fd_path'], context_fields: EXEC_CONTEXT });
  }
  if (opts.network !== false) pts.push({ name: 'syscall/connect/exit', optional_fields: ['fd_path'], context_fields: EXEC_CONTEXT });
  return pts;
}

export function podInitConfig(endpoint: string, opts: { files?: boolean; network?: boolean } = {}): unknown {
  return {
    trace_session: {
      name: 'Default',
      ignore_missing: false,
      points: tracePoints(opts),
      sinks: [{ name: 'remote', config: { endpoint, retries: 40, backoff: '50us', backoff_max: '25ms' }, ignore_setup_error: false }],
    },
  };
}

export interface MonitorStats {
  messages: number;
  byType: Record<number, number>;
  dropped: number;
  reads: number;
  events: number;
  connected: boolean;
}

export interface GvisorMonitor {
  /** Pass to runsc as `--pod-init-config=<path>` (LaunchSpec.monitor.gvisorPodInitConfig). */
  podInitConfigPath: string;
  socketPath: string;
  /** Resolves when the Sentry connected and the handshake was answered. */
  connected: Promise<void>;
  /** Resolves (never rejects) when the stream broke before stop(). */
  failed: Promise<Error>;
  stats: MonitorStats;
  /** Stops listening; emits a final drop count; resolves with the stats. */
  stop(): Promise<MonitorStats>;
}

export interface GvisorMonitorOptions {
  runDir: string;
  audit: AuditSink;
  /** Record write-opens (default true). */
  files?: boolean;
  /** Record connect() calls (default true). */
  network?: boolean;
  /** `commands.deny` patterns: refusals by their shims become `policy deny` events. */
  denyPatterns?: string[];
}

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const AT_FDCWD = -100;
/** errno names for the refusals the monitors report (shared with the eBPF tracer). */
export const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 30: 'EROFS', 101: 'ENETUNREACH', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH', 115: 'EINPROGRESS', 22: 'EINVAL', 97: 'EAFNOSUPPORT' };
/**
 * The trace socket is polled, not read per packet: each wake-up of a waiting receiver costs both
 * sides (on this class of VM ~100 µs of CPU per wake-up, measured), and reading per packet made
 * monitoring cost 20-30% of a file-heavy sandbox's time (bench/audit). The interval adapts: it
 * doubles (up to POLL_MAX_MS) while polls find little, and halves (down to POLL_MIN_MS) when a
 * poll finds more than POLL_BUSY packets. The Sentry's socket buffer holds ~170-280 trace packets
 * (its default SO_SNDBUF); when it fills, the Sentry retries with backoff (slowing the sandbox,
 * never thinning the record). POLL_BUDGET bounds one turn of the event loop, which the egress
 * proxy shares.
 */
const POLL_MIN_MS = 5;
const POLL_START_MS = 20;
const POLL_MAX_MS = 50;
const POLL_BUSY = 96;
const POLL_IDLE = 24;
const POLL_BUDGET = 256;
const HANDSHAKE_POLL_MS = 1;
/** Packets read are decoded and logged every DECODE_BATCH_MS, or once DECODE_BATCH_MAX wait. */
const DECODE_BATCH_MS = 150;
const DECODE_BATCH_MAX = 1024;
const QUIET_PATHS = new Set(['/dev/null', '/dev/tty', '/dev/zero', '/dev/full', '/dev/ptmx']);

export async function startGvisorMonitor(opts: GvisorMonitorOptions): Promise<GvisorMonitor> {
  const socketPath = join(opts.runDir, 'gvisor-monitor.sock');
  const podInitConfigPath = join(opts.runDir, 'pod-init.json');
  if (existsSync(socketPath)) unlinkSync(socketPath);
  const decoder = new TraceDecoder(opts.audit, shimCommandNames(opts.denyPatterns ?? []));
  let resolveFailed!: (e: Error) => void;
  const failed = new Promise<Error>((r) => (resolveFailed = r));
  let resolveConnected!: () => void;
  const connected = new Promise<void>((r) => (resolveConnected = r));
  let stopped = false;
  let conn: PolledConnection | undefined;
  let handshaken = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let pollMs = POLL_START_MS;
  const fail = (e: Error) => {
    if (!stopped) resolveFailed(e);
  };

  // Packets are read at every poll (the socket must not back up into the Sentry) but decoded and
  // logged in larger batches: the same work done back to back, on warm caches, costs a fraction of
  // what it costs spread over many wake-ups (bench/audit: ~20 ms less CPU per 1,200 packets).
  let queue: Buffer[] = [];
  let processedAt = Date.now();
  const processQueue = () => {
    const batch = queue;
    queue = [];
    processedAt = Date.now();
    for (const buf of batch) {
      try {
        decoder.packet(buf);
      } catch (err) {
        // the session is stopped for it, but the packets around it are still evidence
        fail(new Error(`gVisor monitor: undecodable trace packet: ${(err as Error).message}`));
      }
    }
  };
  const onPacket = (buf: Buffer) => {
    if (handshaken) {
      queue.push(Buffer.from(buf)); // the read buffer is reused
      return;
    }
    decode(buf); // Handshake{version}: must at least parse
    conn!.write(Buffer.from([0x08, 0x01]));
    handshaken = true;
    resolveConnected();
  };
  /** Reads what is waiting (at most `budget` packets): the count, 'eof', or 'failed'. */
  const drainAll = (budget: number): number | 'eof' | 'failed' => {
    try {
      return conn!.drain(onPacket, budget);
    } catch (err) {
      const what = err instanceof ProtoError ? 'undecodable handshake' : 'stream error';
      fail(new Error(`gVisor monitor: ${what}: ${(err as Error).message}`));
      return 'failed';
    }
  };
  const poll = () => {
    pollTimer = undefined;
    if (stopped) return;
    const got = drainAll(POLL_BUDGET);
    if (got === 'failed') return;
    if (got === 'eof' || queue.length >= DECODE_BATCH_MAX || Date.now() - processedAt >= DECODE_BATCH_MS) processQueue();
    if (got === 'eof') return; // the Sentry closed the stream: the sandbox is ending
    if (!handshaken) {
      // runsc waits for our handshake reply before it boots the sandbox: do not make it wait a poll
      pollTimer = setTimeout(poll, HANDSHAKE_POLL_MS);
      return;
    }
    if (got > POLL_BUSY) pollMs = Math.max(pollMs / 2, POLL_MIN_MS);
    else if (got < POLL_IDLE) pollMs = Math.min(pollMs * 2, POLL_MAX_MS);
    pollTimer = setTimeout(poll, got >= POLL_BUDGET ? 0 : pollMs);
  };

  let listener: SeqpacketListener;
  try {
    listener = listenSeqpacket(
      socketPath,
      4,
      (c) => {
        if (conn) {
          // one sandbox, one stream: a second peer is not the Sentry we configured
          opts.audit.emit({ kind: 'session', action: 'monitor-error', decision: 'deny', subject: socketPath, detail: { reason: 'unexpected second connection to the monitor socket; refused' } });
          c.close();
          return;
        }
        conn = c;
        decoder.stats.connected = true;
        poll();
      },
      (e) => fail(new Error(`gVisor monitor socket error: ${e.message}`)),
    );
  } catch (err) {
    throw new AirlockError('monitor-start', `${socketPath}: cannot listen for gVisor trace points: ${(err as Error).message}`, 'the session cannot start without its monitor; check the run directory',125);
  }
  writeFileSync(podInitConfigPath, `${JSON.stringify(podInitConfig(socketPath, opts), null, 2)}\n`, { mode: 0o600 });

  return {
    podInitConfigPath,
    socketPath,
    connected,
    failed,
    stats: decoder.stats,
    async stop() {
      if (stopped) return decoder.stats;
      if (pollTimer) clearTimeout(pollTimer);
      // everything the Sentry wrote is in the socket buffer by now: read it to the end
      if (conn) while (drainAll(POLL_BUDGET) === POLL_BUDGET);
      processQueue();
      stopped = true;
      decoder.reportDrops(true);
      conn?.close();
      try {
        listener.close();
      } catch {
        /* already closed */
      }
      try {
        unlinkSync(socketPath);
      } catch {
        /* gone */
      }
      return decoder.stats;
    },
  };
}

interface ProcInfo {
  binary?: string;
  ppid?: number;
  /** Running a commands.deny shim: the command and argv it was asked to run. */
  shim?: { command: string; argv: string[] };
}

/** The shim's exit code when it refuses a command (commands.deny, src/sandbox/executables.ts). */
export const SHIM_REFUSED = 126;

/** Command names that have `commands.deny` patterns (so run through a shim): `git push*` → git. */
export function shimCommandNames(denyPatterns: string[]): Set<string> {
  return new Set(denyPatterns.map((t) => t.trim().split(/\s+/)[0]!.split('/').pop()!).filter((n) => n && !n.includes('*')));
}

/** Turns trace packets into audit events. Exported for unit tests with synthetic packets. */
export class TraceDecoder {
  readonly stats: MonitorStats = { messages: 0, byType: {}, dropped: 0, reads: 0, events: 0, connected: false };
  private procs = new Map<number, ProcInfo>();
  private writesSeen = new Set<string>();
  private lastDropReport = 0;
  private reportedDrops = 0;

  constructor(
    private readonly audit: AuditSink,
    private readonly shimCommands: Set<string> = new Set(),
  ) {}

  packet(buf: Buffer): void {
    if (buf.length < 8) throw new ProtoError(`packet of ${buf.length} bytes is shorter than the header`);
    const headerSize = buf.readUInt16LE(0);
    const type = buf.readUInt16LE(2);
    const dropped = buf.readUInt32LE(4);
    if (headerSize < 8 || headerSize > buf.length) throw new ProtoError(`bad header size ${headerSize}`);
    this.stats.messages++;
    this.stats.byType[type] = (this.stats.byType[type] ?? 0) + 1;
    if (dropped > this.stats.dropped) {
      this.stats.dropped = dropped;
      this.reportDrops(false);
    }
    const body = buf.subarray(headerSize);
    if (this.nothingToRecord(type, body)) return;
    this.message(type, decode(body));
  }

  reportDrops(final: boolean): void {
    const now = Date.now();
    if (this.stats.dropped === this.reportedDrops) return;
    if (!final && now - this.lastDropReport < 1000) return;
    this.lastDropReport = now;
    this.reportedDrops = this.stats.dropped;
    this.audit.emit({ kind: 'session', action: 'monitor-dropped', decision: 'info', subject: 'gvisor', detail: { dropped: this.stats.dropped, reason: 'the gVisor sink fell behind; this many trace events were dropped by the Sentry' } });
  }

  /**
   * The two most frequent messages that usually record nothing, recognised from one field without
   * decoding the rest: read-only opens (counted) and successful execve exits (sentry/execve has
   * the exec). `message` applies the same rules to what gets past here.
   */
  private nothingToRecord(type: number, body: Buffer): boolean {
    if (type === MSG.OPEN && !opensForWrite(peekInt(body, 7))) {
      this.stats.reads++;
      return true;
    }
    if (type === MSG.SYSCALL_EXECVE) {
      const exit = peekField(body, 2);
      return !isRefusal(exit instanceof Buffer ? peekInt(exit, 2) : 0);
    }
    return false;
  }

  private emit(e: EventInput): void {
    this.stats.events++;
    this.audit.emit(e);
  }

  private message(type: number, f: Fields): void {
    const ctx = msg(f, 1);
    const timeNs = uint(ctx, 1);
    const timeMs = timeNs > 0n && timeNs < 1n << 63n ? Number(timeNs / 1_000_000n) : undefined;
    const tid = int(ctx, 2);
    const pid = int(ctx, 4) || tid;
    const cwd = str(ctx, 8) || undefined;
    const processName = str(ctx, 9) || undefined;
    const container = str(ctx, 6) || undefined;
    const base = { pid, process: processName, cwd, container, source: 'gvisor' };
    switch (type) {
      case MSG.CONTAINER_START: {
        const args = strs(f, 4);
        // field 5 (env) deliberately ignored
        this.procs.set(pid, { binary: args[0] });
        this.emit({ kind: 'process', action: 'exec', decision: 'allow', subject: args[0] ?? '?', timeMs, detail: { ...base, argv: args, cwd: str(f, 3) || cwd, container: str(f, 2) || container, init: true } });
        return;
      }
      case MSG.SENTRY_CLONE: {
        const child = int(f, 3);
        const childGroup = int(f, 4);
        if (child && child === childGroup) this.procs.set(childGroup, { ppid: pid });
        return;
      }
      case MSG.SENTRY_EXEC: {
        const binary = str(f, 2);
        const argv = strs(f, 3);
        // field 4 (env) deliberately ignored: it may hold secret placeholders
        const p = this.procs.get(pid) ?? {};
        p.binary = binary || argv[0];
        // a command with commands.deny patterns runs through a shim that either execs the real
        // program (a second exec of this process clears the mark) or exits 126: a policy denial
        const name = (binary || argv[0] || '').split('/').pop()!;
        p.shim = this.shimCommands.has(name) && !(binary || '').startsWith('/.airlock/') ? { command: binary || argv[0]!, argv: [name, ...argv.slice(1)] } : undefined;
        this.procs.set(pid, p);
        this.emit({ kind: 'process', action: 'exec', decision: 'allow', subject: binary || argv[0] || '?', timeMs, detail: { ...base, argv, ppid: p.ppid } });
        return;
      }
      case MSG.SYSCALL_EXECVE: {
        const exit = msg(f, 2);
        const errno = int(exit, 2);
        if (!isRefusal(errno)) return; // success is reported by sentry/execve; ENOENT is PATH search noise
        const path = resolvePath(str(f, 6), int(f, 4), str(f, 5), cwd);
        // field 8 (envv) deliberately ignored
        this.emit({ kind: 'process', action: 'exec', decision: 'deny', subject: path, timeMs, detail: { ...base, argv: strs(f, 7), errno: ERRNO[errno] ?? errno, reason: 'execution refused inside the sandbox' } });
        return;
      }
      case MSG.TASK_EXIT: {
        if (tid !== pid) return; // a non-leader thread
        const st = int(f, 2);
        const exitCode = (st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f);
        const p = this.procs.get(pid);
        this.procs.delete(pid);
        if (!p?.binary) return; // a forked child that never exec'd (subshell): its exec was never reported either
        if (p.shim && exitCode === SHIM_REFUSED) {
          this.emit({ kind: 'policy', action: 'deny', decision: 'deny', subject: p.shim.command, timeMs, detail: { ...base, argv: p.shim.argv, rule: 'commands.deny', reason: 'refused by a commands.deny pattern' } });
        }
        this.emit({ kind: 'process', action: 'exit', decision: 'info', subject: p.binary, timeMs, detail: { ...base, exitCode, ...((st & 0x7f) !== 0 ? { signal: st & 0x7f } : {}) } });
        return;
      }
      case MSG.OPEN: {
        const flags = int(f, 7);
        const exit = msg(f, 2);
        const errno = int(exit, 2);
        const result = int(exit, 1);
        const path = resolvePath(str(f, 6), int(f, 4), str(f, 5), cwd);
        if (QUIET_PATHS.has(path) || path.startsWith('/proc/')) return;
        const denied = errno === 1 || errno === 13 || errno === 30;
        if (!denied && (errno !== 0 || result < 0)) return; // ENOENT/EEXIST etc.: nothing happened
        const key = `${pid}\0${path}\0${denied}`;
        if (this.writesSeen.has(key)) return;
        this.writesSeen.add(key);
        this.emit({ kind: 'file', action: 'open', decision: denied ? 'deny' : 'allow', subject: path, timeMs, detail: { ...base, flags: openFlags(flags), mode: int(f, 8) ? `0${int(f, 8).toString(8)}` : undefined, errno: denied ? (ERRNO[errno] ?? errno) : undefined } });
        return;
      }
      case MSG.CONNECT: {
        const exit = msg(f, 2);
        const errno = int(exit, 2);
        const addr = parseSockaddr(bytes(f, 6));
        if (!addr) return;
        const ok = errno === 0 || errno === 115;
        // A unix socket path that does not exist in the sandbox's view (glibc probing nscd on every
        // name lookup, a tool looking for docker.sock) is recorded, but it is not a policy denial.
        const absent = !ok && addr.family === 'unix' && errno === 2;
        this.emit({
          kind: 'network',
          action: 'connect',
          decision: ok ? 'allow' : absent ? 'info' : 'deny',
          subject: addr.subject,
          timeMs,
          detail: { ...base, family: addr.family, errno: ok ? undefined : (ERRNO[errno] ?? errno), reason: ok ? undefined : absent ? 'no such socket inside the sandbox' : 'connect() failed inside the sandbox (no route out except the proxy)' },
        });
        return;
      }
      default:
        return;
    }
  }
}

/** EPERM or EACCES: an exec the sandbox refused. */
function isRefusal(errno: number): boolean {
  return errno === 1 || errno === 13;
}

function opensForWrite(flags: number): boolean {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) !== 0;
}

function resolvePath(pathname: string, dirfd: number, fdPath: string, cwd: string | undefined): string {
  if (!pathname) return fdPath || '?';
  if (pathname.startsWith('/')) return posix.normalize(pathname);
  const base = dirfd === AT_FDCWD || !fdPath ? cwd : fdPath;
  return base ? posix.join(base, pathname) : pathname;
}

function openFlags(flags: number): string[] {
  const out: string[] = [(['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'] as const)[flags & 3]!];
  if (flags & O_CREAT) out.push('O_CREAT');
  if (flags & O_TRUNC) out.push('O_TRUNC');
  if (flags & 0o2000) out.push('O_APPEND');
  if (flags & 0o200) out.push('O_EXCL');
  return out;
}

/** Decodes a raw `struct sockaddr` (AF_UNIX, AF_INET, AF_INET6). */
export function parseSockaddr(b: Buffer): { family: string; subject: string } | undefined {
  if (b.length < 2) return undefined;
  const fam = b.readUInt16LE(0);
  if (fam === 1) {
    const raw = b.subarray(2);
    const abstract = raw[0] === 0;
    const end = abstract ? raw.length : raw.indexOf(0) >= 0 ? raw.indexOf(0) : raw.length;
    const path = raw.subarray(abstract ? 1 : 0, end).toString('utf8');
    return { family: 'unix', subject: abstract ? `unix:@${path}` : `unix:${path}` };
  }
  if (fam === 2 && b.length >= 8) {
    const port = b.readUInt16BE(2);
    return { family: 'inet', subject: `${b[4]}.${b[5]}.${b[6]}.${b[7]}:${port}` };
  }
  if (fam === 10 && b.length >= 24) {
    const port = b.readUInt16BE(2);
    const parts: string[] = [];
    for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(8 + i * 2).toString(16));
    const ip = parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:::+/, '::');
    return { family: 'inet6', subject: `[${ip}]:${port}` };
  }
  return undefined;
}
