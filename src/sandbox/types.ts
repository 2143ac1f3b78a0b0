/**
 * The contract between the session (which assembles what a run needs) and the isolation
 * backends (which enforce it). Backends differ in mechanism, not in this plan: both get the same
 * LaunchSpec and must give the agent the same view.
 */
export type BackendName = 'gvisor' | 'bwrap' | 'none';

export interface MountSpec {
  /** Absolute host path (ignored for tmpfs). */
  source: string;
  /** Absolute path inside the sandbox. */
  target: string;
  kind: 'bind' | 'tmpfs';
  readonly: boolean;
  /** A unix socket (or a directory holding sockets) the sandbox must be able to connect to. */
  socket?: boolean;
}

export interface LaunchSpec {
  sessionId: string;
  /** Per-session scratch directory on the host (bundle, sockets); removed by the session. */
  runDir: string;
  /** The agent command, argv[0] resolved inside the sandbox view. */
  argv: string[];
  /** Host directory holding the (staged) workspace view, and where it appears inside. */
  workspace: { hostPath: string; sandboxPath: string };
  /** Working directory inside the sandbox (normally workspace.sandboxPath). */
  cwd: string;
  /** The complete environment inside the sandbox (already scrubbed; nothing else is inherited). */
  env: Record<string, string>;
  /** Extra mounts contributed by other doors (proxy socket dir, CA bundle, policy read/write). */
  mounts: MountSpec[];
  /** Host paths (files, directories or globs already expanded) that must not be visible. */
  deny: string[];
  /**
   * Programs run inside before `argv`, as a prefix: the sandbox executes
   * `[...prelude, ...argv]`. Used by the network relay (`relay ... -- CMD ARGS`).
   */
  prelude: string[];
  /** Executables that may be executed (absolute host paths); undefined = unrestricted. */
  executables?: string[];
  /** `commands.deny` argv patterns (as written, `*` = anything), refused by shims at the program's path. */
  argvDeny?: string[];
  limits: { wallTimeMs?: number; memoryBytes?: number; pids?: number; cpus?: number; diskBytes?: number };
  /** Safety caps applied when the backend can do so cheaply (e.g. a default pids cap); never an error. */
  defaultLimits?: { pids?: number };
  /** Give the agent a terminal (when airlock itself has one). */
  tty: boolean;
  /** Runtime monitoring hooks from audit/. */
  monitor?: {
    /** gVisor: path of a `--pod-init-config` file (trace session with a remote sink). */
    gvisorPodInitConfig?: string;
    /** bwrap: argv prefix of a tracer placed in front of bwrap (e.g. strace ... --). */
    tracerArgv?: string[];
    /** bwrap: start bwrap through this path instead of PATH's (the eBPF tracer's per-session symlink). */
    bwrapPath?: string;
  };
}

export interface SandboxHandle {
  pid: number;
  /** Resolves with the agent's exit code (128+signal when killed), after teardown. */
  wait(): Promise<{ exitCode: number; signal?: string; reason?: string }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Backend {
  name: BackendName;
  /** What this backend enforces and what it does not (printed by doctor and docs). */
  securityModel: string;
  launch(spec: LaunchSpec): Promise<SandboxHandle>;
}
