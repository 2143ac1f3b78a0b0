/**
 * Escape attempts from inside the sandbox, through the real CLI, on both real backends. Canary
 * secrets sit in a fake HOME (HOME points there for the airlock process) and in the environment;
 * every probe (test/attacks/probe.py) must report `contained`, and the host side checks that
 * nothing it can observe changed (files written, connections received).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BACKENDS, backendSkipReason, CANARY_FILES, makeFixture, runAirlock, writePolicy, type Fixture } from './harness.js';

function listen(server: Server, arg: number | string, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof arg === 'number') server.listen(arg, host, () => resolve());
    else server.listen(arg, () => resolve());
  });
}

function verdicts(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const r = /^\[([^\]]+)\] (.*)$/.exec(line);
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

for (const backend of BACKENDS) {
  describe(`escape attempts on ${backend}`, { concurrency: false }, () => {
    const skip = backendSkipReason(backend);
    let fx: Fixture;
    let policy: string;
    const servers: Server[] = [];
    let connections = 0;
    let tcpPort = 0;
    let anyPort = 0;
    let hostMarker: ReturnType<typeof spawn> | undefined;
    const marker = `airlock-host-marker-${process.pid}-${backend}`;
    const abstractName = `airlock-test-${process.pid}-${backend}`;
    let batch: Promise<{ code: number | null; stdout: string; stderr: string; v: Map<string, string> }>;

    before(async () => {
      if (skip) return;
      fx = makeFixture();
      // Pre-planted links in the workspace pointing at canaries outside.
      symlinkSync(join(fx.home, '.ssh/id_rsa'), join(fx.ws, 'link-abs'));
      symlinkSync('../home/.aws/credentials', join(fx.ws, 'link-rel'));
      symlinkSync(fx.home, join(fx.ws, 'link-home'));
      policy = writePolicy(fx, 'policy.yaml', `version: 1\nfilesystem:\n  read: [${fx.outside}]\n`);
      const onConn = (s: import('node:net').Socket) => {
        connections++;
        s.end('HOST\n');
      };
      const tcp = createServer(onConn);
      await listen(tcp, 0, '127.0.0.1');
      tcpPort = (tcp.address() as import('node:net').AddressInfo).port;
      const any = createServer(onConn);
      await listen(any, 0, '0.0.0.0');
      anyPort = (any.address() as import('node:net').AddressInfo).port;
      const unix = createServer(onConn);
      await listen(unix, join(fx.root, 'host.sock'));
      const unixTmp = createServer(onConn);
      await listen(unixTmp, `/tmp/airlock-test-${process.pid}-${backend}.sock`);
      const abs = createServer(onConn);
      await listen(abs, `\0${abstractName}`);
      servers.push(tcp, any, unix, unixTmp, abs);
      hostMarker = spawn('sleep', ['300', marker], { stdio: 'ignore' });
      hostMarker.on('error', () => undefined);

      const hostIPs = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i!.address);
      const canaries = CANARY_FILES.map((f) => join(fx.home, f));
      const args = [
        'multi',
        'read', ...canaries, join(fx.home, '.ssh'), 'link-abs', 'link-rel', 'link-home/.ssh/id_rsa', join(fx.outside, '.env'), join(fx.root, '.env'), '/etc/shadow', '/etc/gshadow', '--',
        'symlink-inside', ...canaries, '--',
        'hardlink-inside', ...canaries, '--',
        'write-outside', join(fx.outside, 'pwned'), join(fx.home, 'pwned'), join(fx.root, 'pwned'), '/etc/pwned', '/usr/pwned', '/pwned', '--',
        'env', '--',
        'proc', [...marker].reverse().join(''), '--',
        'unshare', '--',
        'clone-newuser', '--',
        'mount', '--',
        'ptrace', '--',
        'process-vm', '--',
        'tiocsti', '--',
        'keyring', '--',
        'bpf-iouring-perf', '--',
        'chroot-pivot', '--',
        'unix-socket', join(fx.root, 'host.sock'), `/tmp/airlock-test-${process.pid}-${backend}.sock`, '/var/run/docker.sock', '/run/docker.sock', '--',
        'abstract-socket', abstractName, '--',
        'tcp', `127.0.0.1:${tcpPort}`, `127.0.0.1:${anyPort}`, ...hostIPs.map((ip) => `${ip}:${anyPort}`), '--',
        'raw-socket', '--',
        'interfaces', '--',
        'devices', '--',
        'setuid',
      ];
      batch = runAirlock(fx, backend, policy, ['python3', 'probe.py', ...args]).then((r) => ({ ...r, v: verdicts(r.stdout) }));
      await batch;
    });

    after(() => {
      for (const s of servers) s.close();
      hostMarker?.kill('SIGKILL');
      fx?.cleanup();
    });

    const probeTest = (name: string, title: string) =>
      test(title, { skip }, async () => {
        const r = await batch;
        const v = r.v.get(name);
        assert.ok(v, `probe ${name} produced no verdict; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.match(v, /^contained/, `${name}: ${v}`);
      });

    probeTest('read', 'denied paths, pre-planted symlinks, .env outside the workspace and /etc/shadow are unreadable');
    probeTest('symlink-inside', 'symlinks created inside resolve in the sandbox view, not the host');
    probeTest('hardlink-inside', 'hard links to host secrets cannot be created');
    probeTest('env', 'the host environment (tokens) does not enter the sandbox');
    probeTest('proc', 'host processes are not visible in /proc');
    probeTest('unshare', 'nested namespaces (unshare) are refused');
    probeTest('clone-newuser', 'clone with CLONE_NEWUSER is refused');
    probeTest('mount', 'mount is refused');
    probeTest('ptrace', 'ptrace is refused');
    probeTest('process-vm', 'process_vm_readv is refused');
    probeTest('tiocsti', 'TIOCSTI terminal injection is refused');
    probeTest('keyring', 'kernel keyring syscalls are refused');
    probeTest('bpf-iouring-perf', 'bpf, io_uring, perf_event_open and userfaultfd are refused');
    probeTest('chroot-pivot', 'chroot is refused');
    probeTest('unix-socket', 'host unix sockets (incl. docker.sock) are unreachable');
    probeTest('abstract-socket', 'host abstract unix sockets are unreachable');
    probeTest('tcp', 'host TCP listeners (loopback and host addresses) are unreachable');
    probeTest('raw-socket', 'raw and packet sockets are refused');
    probeTest('interfaces', 'only a loopback interface exists');
    probeTest('devices', 'no host devices can be opened');
    probeTest('setuid', 'the agent has no capabilities');

    test('no connection reached any host listener', { skip }, async () => {
      await batch;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 0);
    });

    test('writes outside the workspace do not reach the host; workspace writes are staged', { skip }, async () => {
      await batch;
      for (const p of [join(fx.outside, 'pwned'), join(fx.home, 'pwned'), join(fx.root, 'pwned'), '/etc/pwned', '/usr/pwned', '/pwned']) {
        assert.equal(existsSync(p), false, `${p} was written on the host`);
      }
      const r = await runAirlock(fx, backend, policy, ['sh', '-c', 'echo staged > staged.txt && echo changed > hello.txt && cat staged.txt']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'staged');
      assert.equal(existsSync(join(fx.ws, 'staged.txt')), false, 'the user tree was written before apply');
      assert.equal(readFileSync(join(fx.ws, 'hello.txt'), 'utf8'), 'hello\n');
    });

    test('a pre-existing hard link in the workspace to a denied file is masked', { skip }, async () => {
      // Same file system (both under the fixture root): plant a hard link to the canary key.
      try {
        linkSync(join(fx.home, '.ssh/id_ed25519'), join(fx.ws, 'innocent.txt'));
      } catch (err) {
        return assert.fail(`cannot plant the hard link: ${(err as Error).message}`);
      }
      const r = await runAirlock(fx, backend, policy, ['python3', 'probe.py', 'read', 'innocent.txt']);
      assert.match(r.stdout, /^contained/m, r.stdout + r.stderr);
    });

    test('fork bomb stops at the pids limit', { skip }, async () => {
      const p = writePolicy(fx, 'pids.yaml', 'version: 1\nruntime: { limits: { pids: 64 } }\n');
      const r = await runAirlock(fx, backend, p, ['python3', 'probe.py', 'forkbomb', '300']);
      assert.doesNotMatch(r.stdout, /ESCAPED/, r.stdout + r.stderr);
      assert.match(r.stdout, /contained: fork refused/);
    });

    test('memory hog is stopped by the memory limit', { skip }, async () => {
      const p = writePolicy(fx, 'mem.yaml', 'version: 1\nruntime: { limits: { memory: 128MiB } }\n');
      const r = await runAirlock(fx, backend, p, ['python3', 'probe.py', 'memhog', '400']);
      assert.doesNotMatch(r.stdout, /ESCAPED/, r.stdout + r.stderr);
      assert.notEqual(r.code, 0);
    });

    test('disk fill stops at the disk limit in /tmp, home, /dev/shm and the workspace', { skip }, async () => {
      const p = writePolicy(fx, 'disk.yaml', 'version: 1\nruntime: { limits: { disk: 16MiB } }\n');
      for (const target of ['/tmp/fill', '/home/agent/fill', '/dev/shm/fill', 'fill']) {
        const r = await runAirlock(fx, backend, p, ['python3', 'probe.py', 'diskfill', target, '64']);
        assert.match(r.stdout, /^contained: 28 /m, `${target}: ${r.stdout}${r.stderr}`);
      }
    });

    test('wall-time limit kills the sandbox with exit 124 and says so', { skip }, async () => {
      const p = writePolicy(fx, 'wall.yaml', 'version: 1\nruntime: { limits: { wallTime: 2s } }\n');
      const t0 = Date.now();
      const r = await runAirlock(fx, backend, p, ['sleep', '60']);
      assert.equal(r.code, 124, r.stderr);
      assert.match(r.stderr, /airlock: wall-time limit/);
      assert.ok(Date.now() - t0 < 30_000);
    });

    test('a binary outside commands.allow cannot be executed, and argv deny patterns are refused', { skip }, async () => {
      mkdirSync(join(fx.root, 'cmd'), { recursive: true });
      const p = writePolicy(fx, 'cmd.yaml', 'version: 1\ncommands:\n  allow: [sh, cat, echo, git]\n  deny: ["git push*"]\n');
      let r = await runAirlock(fx, backend, p, ['sh', '-c', 'ls / ; echo ls=$?; /usr/bin/python3 -c 1; echo py=$?; cat hello.txt']);
      assert.match(r.stdout, /ls=127/);
      assert.match(r.stdout, /py=127/);
      assert.match(r.stdout, /hello/);
      r = await runAirlock(fx, backend, p, ['git', 'push', 'origin', 'main']);
      assert.equal(r.code, 126);
      assert.match(r.stderr, /airlock: refused by policy commands\.deny "git push\*": git push origin main/);
      r = await runAirlock(fx, backend, p, ['git', 'status', '--short']);
      assert.equal(r.code, 0, r.stderr);
    });

    test('a copied binary cannot be executed from writable areas when commands are restricted', { skip: skip ?? (backend === 'bwrap' ? undefined : undefined) }, async () => {
      writeFileSync(join(fx.ws, 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
      const p = writePolicy(fx, 'noexec.yaml', 'version: 1\ncommands:\n  allow: [sh, cat, cp, chmod]\n');
      const r = await runAirlock(fx, backend, p, ['sh', '-c', './run.sh; echo ws=$?; cp /usr/bin/cat /tmp/c && chmod +x /tmp/c && /tmp/c hello.txt; echo tmp=$?; cp /usr/bin/cat $HOME/c; chmod +x $HOME/c; $HOME/c hello.txt; echo home=$?; cp /usr/bin/cat /dev/shm/c; chmod +x /dev/shm/c; /dev/shm/c hello.txt; echo shm=$?']);
      assert.match(r.stdout, /shm=126/, r.stdout + r.stderr);
      assert.match(r.stdout, /ws=126/, r.stdout + r.stderr);
      assert.match(r.stdout, /tmp=126/, r.stdout + r.stderr);
      assert.match(r.stdout, /home=126/, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /^ran$/m);
    });
  });
}
