/**
 * The runtime probe against real boundaries: run inside gVisor (`runsc do`) and inside bubblewrap
 * (`bwrap --unshare-all`), and through the CLI with a fake root that looks like a Docker container
 * with the Docker socket mounted (a real unix socket). Skips, with the reason, where the machine
 * lacks runsc or bwrap or cannot start them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AuditReport, RuntimeReport } from '../../src/posture/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const POSTURE = join(ROOT, 'dist/src/posture/index.js');
const PROBE = `import { probeRuntime } from ${JSON.stringify(POSTURE)}; console.log(JSON.stringify(probeRuntime()));`;

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$0"', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function parseProbe(stdout: string): RuntimeReport | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as RuntimeReport) : undefined;
}

test('inside gVisor (runsc do) the probe reports gvisor, not the container markers it also sees', (t) => {
  const runsc = which('runsc');
  if (!runsc) return t.skip('runsc not installed');
  const r = spawnSync(runsc, ['--network=none', 'do', '--', process.execPath, '--input-type=module', '-e', PROBE], { encoding: 'utf8', timeout: 90_000, cwd: tmpdir() });
  const rep = parseProbe(r.stdout ?? '');
  if (!rep) return t.skip(`runsc do could not run here (exit ${r.status}): ${(r.stderr ?? '').split('\n')[0]}`);
  assert.equal(rep.isolation, 'gvisor', JSON.stringify(rep.evidence));
  assert.equal(rep.sharedKernel, false);
  assert.ok(rep.evidence.some((e) => e.includes('/proc/version')));
});

test('inside bubblewrap the probe sees a namespace sandbox (PID 1 is bwrap, user namespace)', (t) => {
  const bwrap = which('bwrap');
  if (!bwrap) return t.skip('bwrap not installed');
  const r = spawnSync(bwrap, ['--unshare-all', '--unshare-user', '--uid', '1000', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', process.execPath, '--input-type=module', '-e', PROBE], { encoding: 'utf8', timeout: 60_000 });
  const rep = parseProbe(r.stdout ?? '');
  if (!rep) return t.skip(`bwrap could not run here (exit ${r.status}): ${(r.stderr ?? '').split('\n')[0]}`);
  assert.equal(rep.container.detected, true);
  assert.ok(rep.container.evidence.includes('PID 1 is bwrap'), JSON.stringify(rep.container.evidence));
  assert.ok(rep.container.evidence.some((e) => e.startsWith('in a user namespace')));
  assert.equal(rep.runningAsRoot, false);
});

test('CLI --root: a container with the Docker socket mounted is reported as shared-kernel + docker-socket findings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-posture-root-'));
  const root = join(dir, 'root');
  const files: Record<string, string> = {
    '.dockerenv': '',
    'proc/version': 'Linux version 6.1.0-18-amd64 (debian)\n',
    'proc/1/cgroup': '0::/system.slice/docker-3f1e0c2d9a.scope\n',
    'proc/self/mountinfo': '500 400 0:52 / / rw,relatime - overlay overlay rw\n',
    'proc/cmdline': 'BOOT_IMAGE=/vmlinuz ro quiet\n',
  };
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  mkdirSync(join(root, 'var/run'), { recursive: true });
  mkdirSync(join(dir, 'repo'));
  mkdirSync(join(dir, 'home'));
  const server = createServer();
  await new Promise<void>((res) => server.listen(join(root, 'var/run/docker.sock'), res));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/airlock'), 'audit', '--repo', join(dir, 'repo'), '--home', join(dir, 'home'), '--root', root, '--format', 'json'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home-for-posture-tests' },
    });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as AuditReport;
    assert.equal(rep.runtime.isolation, 'container');
    assert.equal(rep.runtime.dockerSocket.reachable, true);
    const ids = rep.findings.map((f) => f.id);
    assert.ok(ids.includes('runtime.shared-kernel'));
    const sock = rep.findings.find((f) => f.id === 'runtime.docker-socket')!;
    assert.equal(sock.severity, 'critical');
    assert.ok(sock.asi.includes('ASI03'));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--probe-backends verifies the backends by starting them (sandbox/detect.ts) and says so', (t) => {
  if (!which('runsc') && !which('bwrap')) return t.skip('neither runsc nor bwrap installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-posture-probe-'));
  mkdirSync(join(dir, 'repo'));
  mkdirSync(join(dir, 'home'));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/airlock'), 'audit', '--repo', join(dir, 'repo'), '--home', join(dir, 'home'), '--probe-backends', '--format', 'json'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home-for-posture-tests' },
    });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as AuditReport;
    const b = rep.runtime.backends;
    assert.equal(b.gvisor.verified, true);
    assert.equal(b.bwrap.verified, true);
    assert.ok(typeof b.gvisor.detail === 'string' && b.gvisor.detail.length > 0);
    if (!b.gvisor.available && !b.bwrap.available) t.diagnostic('no backend could start a sandbox on this machine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
