/**
 * The Node fallback relay, run INSIDE the sandbox when socat is not installed:
 * `node relay-main.js PORT SOCKET -- CMD ARGS...`. Listens on 127.0.0.1:PORT, forwards each
 * connection to the proxy's unix SOCKET, and only once listening spawns the agent, mirroring its
 * exit code (128+signal when killed) and forwarding SIGINT/SIGTERM/SIGHUP to it.
 */
import net from 'node:net';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

function fail(msg: string): never {
  process.stderr.write(`airlock-relay: ${msg}\n`);
  process.exit(125);
}

const [portText, socketPath, dd, ...argv] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !socketPath || dd !== '--' || argv.length === 0) fail('usage: relay-main PORT SOCKET -- CMD [ARGS...]');

const server = net.createServer((c) => {
  c.setNoDelay(true);
  const u = net.connect(socketPath!);
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${port}: ${e.message}`));
server.listen(port, '127.0.0.1', () => {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  child.on('error', (e) => fail(`cannot run ${argv[0]}: ${e.message}`));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    server.close();
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1));
  });
});

