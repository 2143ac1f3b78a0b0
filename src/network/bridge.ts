/**
 * The bridge into the sandbox. The sandbox has no network interface but loopback (gVisor
 * `--network=none`, bwrap `--unshare-net`), so nothing inside can reach the host or the internet
 * directly. The proxy's unix socket directory is bind-mounted in; a relay *inside* listens on
 * `127.0.0.1:<port>` and forwards every connection to that socket; the agent's environment points
 * `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (and lower-case forms) at the relay. A program that ignores
 * those variables has no route anywhere: its connect() fails (ENETUNREACH/EHOSTUNREACH) and no
 * NAT or iptables rule is involved (gVisor has none).
 *
 * The relay is `socat` (Debian package, present on the host root the sandbox sees) started by a
 * fixed sh launcher that receives everything as positional arguments — no string is interpolated
 * into shell code. The launcher waits until the relay's socket is LISTENing (read from
 * /proc/net/tcp, which both backends provide) and only then `exec`s the agent, so the agent never
 * races the relay. Measured here: under gVisor the socat launcher adds ~20–40 ms, a Node relay
 * ~500 ms (Node's startup under runsc). When socat is missing the Node relay (relay-main.ts) is
 * used instead: it listens first, then spawns the agent and mirrors its exit status.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MountSpec } from '../sandbox/types.js';
import type { Policy } from '../policy/compile.js';

export const DEFAULT_RELAY_PORT = 3128;
/** Inside the sandbox: `<dir>/net/` holds the proxy socket, `<dir>/bin/` the relay's programs. */
export const RELAY_DIR = '/run/airlock';

export interface SandboxNetworkPlan {
  mounts: MountSpec[];
  env: Record<string, string>;
  /** Prefix for the sandbox argv: `[...prelude, ...agentArgv]`. */
  prelude: string[];
  relay: 'socat' | 'node';
}

/**
 * The fixed launcher. $1 = port, $2 = the port in upper-case hex as /proc/net/tcp prints it (no
 * subshell needed: each fork costs tens of ms under gVisor), $3 = socket path inside, $4 = socat,
 * $5 = sleep, then `--` and the agent argv.
 */
export const RELAY_LAUNCHER = `port=$1; hex=$2; sock=$3; socat=$4; sleep=$5; shift 5
[ "$1" = -- ] && shift
"$socat" -lp airlock-relay TCP4-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork,nodelay UNIX-CONNECT:"$sock" </dev/null &
relay=$!
n=0
while :; do
  ok=
  while read -r _ l _ st _; do
    if [ "$l" = "0100007F:$hex" ] && [ "$st" = 0A ]; then ok=1; break; fi
  done < /proc/net/tcp
  [ -n "$ok" ] && break
  if ! kill -0 "$relay" 2>/dev/null; then echo "airlock: the network relay could not start (port $port)" >&2; exit 125; fi
  n=$((n+1))
  if [ "$n" -gt 2000 ]; then echo "airlock: the network relay did not start listening" >&2; exit 125; fi
  if [ "$n" -gt 500 ]; then "$sleep" 0.01; fi
done
exec "$@"
`;

/** true when the policy allows any egress at all (otherwise start no proxy and no relay). */
export function needsProxy(policy: Pick<Policy, 'network'>): boolean {
  return policy.network.allow.length > 0;
}

/**
 * What the sandbox needs to reach the proxy at `socketPath` through a relay on 127.0.0.1:`port`.
 * The socket must sit in a directory of its own (that directory is what gets mounted). Returns
 * null when a policy is given and it allows no egress.
 */
export function sandboxNetworkPlan(opts: {
  socketPath: string;
  port?: number;
  policy?: Pick<Policy, 'network'>;
  /** Directory inside the sandbox holding the relay's programs and the socket directory. Default /run/airlock. */
  sandboxDir?: string;
  /** Force a relay implementation (default: socat when installed). */
  relay?: 'socat' | 'node';
  nodePath?: string;
}): SandboxNetworkPlan | null {
  if (opts.policy && !needsProxy(opts.policy)) return null;
  const port = opts.port ?? DEFAULT_RELAY_PORT;
  const base = opts.sandboxDir ?? RELAY_DIR;
  const insideDir = `${base}/net`;
  const insideSock = `${insideDir}/${basename(opts.socketPath)}`;
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    ALL_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    all_proxy: url,
    NO_PROXY: '',
    no_proxy: '',
  };
  const mounts: MountSpec[] = [{ source: dirname(opts.socketPath), target: insideDir, kind: 'bind', readonly: true, socket: true }];
  // The relay's own programs are bound at fixed paths, so the relay works whatever commands.allow says.
  const program = (host: string, name: string) => {
    const real = realpathSync(host);
    mounts.push({ source: real, target: `${base}/bin/${name}`, kind: 'bind', readonly: true });
    return `${base}/bin/${name}`;
  };
  const socat = ['/usr/bin/socat', '/bin/socat'].find((p) => existsSync(p));
  const relay = opts.relay ?? (socat ? 'socat' : 'node');
  if (relay === 'socat') {
    const sh = ['/bin/sh', '/usr/bin/sh'].find((p) => existsSync(p));
    const sleep = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p));
    if (!socat || !sh || !sleep) throw new Error('network relay: socat, sh and sleep are needed on the host (apt-get install socat)');
    const prelude = [program(sh, 'sh'), '-c', RELAY_LAUNCHER, 'airlock-relay', String(port), port.toString(16).toUpperCase().padStart(4, '0'), insideSock, program(socat, 'socat'), program(sleep, 'sleep'), '--'];
    return { mounts, env, relay, prelude };
  }
  const node = program(opts.nodePath ?? process.execPath, 'node');
  const relayMain = fileURLToPath(new URL('./relay-main.js', import.meta.url));
  mounts.push({ source: relayMain, target: `${base}/relay-main.mjs`, kind: 'bind', readonly: true });
  return { mounts, env, relay, prelude: [node, `${base}/relay-main.mjs`, String(port), insideSock, '--'] };
}
