import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { probeRuntime } from './runtime.js';

function fakeRoot(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'airlock-root-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

const HOST_CGROUP = '12:memory:/user.slice\n0::/user.slice/user-1000.slice/session-2.scope\n';
const EXT4_ROOT = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n';

test('a bare host: no isolation, shared kernel', () => {
  const root = fakeRoot({ 'proc/version': 'Linux version 6.1.0-18-amd64 (debian)\n', 'proc/1/cgroup': HOST_CGROUP, 'proc/self/mountinfo': EXT4_ROOT, 'proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n' });
  try {
    const r = probeRuntime({ root, env: { PATH: '/usr/bin' }, uid: 1000 });
    assert.equal(r.isolation, 'none');
    assert.equal(r.sharedKernel, true);
    assert.equal(r.dockerSocket.reachable, false);
    assert.equal(r.runningAsRoot, false);
    assert.equal(r.backends.gvisor.available, false);
    assert.equal(r.backends.microvm.available, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a Docker container with the Docker socket mounted: container + reachable socket', async () => {
  const root = fakeRoot({
    '.dockerenv': '',
    'proc/version': 'Linux version 6.1.0-18-amd64 (debian)\n',
    'proc/1/cgroup': '0::/system.slice/docker-3f1e0c2d9a.scope\n',
    'proc/self/mountinfo': '500 400 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X\n',
    'usr/bin/runsc': '#!/bin/sh\n',
  });
  chmodSync(join(root, 'usr/bin/runsc'), 0o755);
  mkdirSync(join(root, 'var/run'), { recursive: true });
  const server = createServer();
  await new Promise<void>((res) => server.listen(join(root, 'var/run/docker.sock'), res));
  try {
    const r = probeRuntime({ root, env: { PATH: '/usr/bin' }, uid: 0 });
    assert.equal(r.isolation, 'container');
    assert.equal(r.sharedKernel, true);
    assert.ok(r.evidence.some((e) => e.includes('/.dockerenv')));
    assert.ok(r.evidence.some((e) => e.includes('overlay')));
    assert.ok(r.evidence.some((e) => e.includes('docker')));
    assert.deepEqual(r.dockerSocket.paths, ['/var/run/docker.sock']);
    assert.equal(r.dockerSocket.reachable, true);
    assert.equal(r.runningAsRoot, true);
    assert.equal(r.backends.gvisor.available, true);
    assert.equal(r.backends.gvisor.path, '/usr/bin/runsc');
  } finally {
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('DOCKER_HOST over TCP counts as a reachable Docker daemon; credentials in it are not echoed', () => {
  const root = fakeRoot({ 'proc/version': 'Linux version 6.1.0\n' });
  try {
    const r = probeRuntime({ root, env: { DOCKER_HOST: 'tcp://admin:hunter2hunter2@10.0.0.5:2376' }, uid: 1000 });
    assert.equal(r.dockerSocket.reachable, true);
    assert.ok(!JSON.stringify(r).includes('hunter2'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('inside gVisor: detected from /proc/version and the job cgroup, even with container markers', () => {
  const root = fakeRoot({
    '.dockerenv': '',
    'proc/version': 'Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016\n',
    'proc/1/cgroup': '7:pids:/\n6:memory:/\n5:job:/\n4:devices:/\n',
    'proc/self/mountinfo': '18 17 0:19 / / rw - overlay none rw\n',
  });
  try {
    const r = probeRuntime({ root, env: {}, uid: 0 });
    assert.equal(r.isolation, 'gvisor');
    assert.equal(r.sharedKernel, false);
    assert.equal(r.container.detected, true);
    assert.equal(r.evidence.length, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('inside a Firecracker microVM: detected from the kernel command line', () => {
  const root = fakeRoot({ 'proc/version': 'Linux version 6.1.102 (builder@fc)\n', 'proc/cmdline': 'console=ttyS0 reboot=k panic=1 pci=off --firecracker-init\n', 'proc/self/mountinfo': EXT4_ROOT });
  try {
    const r = probeRuntime({ root, env: {}, uid: 0 });
    assert.equal(r.isolation, 'microvm');
    assert.equal(r.sharedKernel, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
