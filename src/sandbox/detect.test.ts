import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectBackends, parseCgroupMounts, parseRunscPlatform, parseRunscVersion, probeBwrap, probeGvisor, renderDoctorReport, RUNSC_STATX_FIX } from './detect.js';
import { which } from './which.js';

test('runsc versions are parsed from Debian and upstream spellings', () => {
  assert.equal(parseRunscVersion('runsc version 0.0~20240729.0\nspec: 1.0.2-dev\n'), 20240729);
  assert.equal(parseRunscVersion('runsc version release-20221219.0\nspec: 1.0.2-dev\n'), 20221219);
  assert.equal(parseRunscVersion('runsc version 0.0~20221219.0-2+b5\n'), 20221219);
  assert.equal(parseRunscVersion('nonsense'), undefined);
  assert.ok(20221219 < RUNSC_STATX_FIX && 20240729 >= RUNSC_STATX_FIX);
});

test('the runsc platform default is read from `runsc flags`', () => {
  assert.equal(parseRunscPlatform('  -platform string\n    \tspecifies which platform to use: systrap (default), ptrace, kvm. (default "systrap")\n'), 'systrap');
  assert.equal(parseRunscPlatform('  -platform string\n    \tspecifies which platform to use: ptrace (default), kvm. (default "ptrace")\n'), 'ptrace');
  assert.equal(parseRunscPlatform(''), undefined);
});

test('cgroup mounts: v1, v2, hybrid and none', () => {
  const v1 = 'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\ncgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n';
  const v2 = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n';
  assert.deepEqual(parseCgroupMounts(v1, () => undefined).v1Controllers, ['memory', 'pids']);
  assert.equal(parseCgroupMounts(v1, () => undefined).version, 'v1');
  const r2 = parseCgroupMounts(v2, () => 'cpuset cpu io memory pids\n');
  assert.equal(r2.version, 'v2');
  assert.deepEqual(r2.v2Controllers, ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  assert.equal(parseCgroupMounts(v1 + 'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n', () => 'hugetlb').version, 'hybrid');
  assert.equal(parseCgroupMounts('proc /proc proc rw 0 0\n', () => undefined).version, 'none');
});

function fakeBin(script: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-detect-'));
  const path = join(dir, 'fake');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return { path, dir };
}

test('attack: a runsc that is installed but cannot start a sandbox is reported unavailable (presence is not enough)', async () => {
  const fake = fakeBin('case "$1" in --version) echo "runsc version 0.0~20221219.0";; flags) printf -- "  -platform string\\n    \\tx (default \\"ptrace\\")\\n";; *) echo "cannot create sandbox: permission denied" >&2; exit 1;; esac');
  try {
    const r = await probeGvisor(fake.path);
    assert.equal(r.available, false);
    assert.equal(r.version, '20221219');
    assert.equal(r.platform, 'ptrace');
    assert.match(r.detail, /could not start a sandbox: exit 1: cannot create sandbox/);
    assert.ok(r.warnings.some((w) => /statx/.test(w)), 'old runsc gets the statx warning');
    assert.ok(r.warnings.some((w) => /ptrace/.test(w)));
  } finally {
    rmSync(fake.dir, { recursive: true, force: true });
  }
});

test('attack: a bwrap that cannot create namespaces is reported unavailable', async () => {
  const fake = fakeBin('case "$1" in --version) echo "bubblewrap 0.8.0";; *) echo "bwrap: No permissions to creating new namespace" >&2; exit 1;; esac');
  try {
    const r = await probeBwrap(fake.path);
    assert.equal(r.available, false);
    assert.equal(r.version, '0.8.0');
    assert.match(r.detail, /No permissions/);
  } finally {
    rmSync(fake.dir, { recursive: true, force: true });
  }
});

test('a runsc that hangs is cut off by the timeout and reported unavailable', { timeout: 20_000 }, async () => {
  const fake = fakeBin('case "$1" in --version) echo "runsc version 0.0~20240729.0";; flags) ;; *) exec sleep 100;; esac');
  try {
    const r = await probeGvisor(fake.path, 500);
    assert.equal(r.available, false);
    assert.match(r.detail, /timed out/);
  } finally {
    rmSync(fake.dir, { recursive: true, force: true });
  }
});

test('on this host: every backend installed is really started, and the strongest is chosen', { timeout: 90_000 }, async (t) => {
  const r = await detectBackends();
  const gvisor = r.backends.find((b) => b.name === 'gvisor')!;
  const bwrap = r.backends.find((b) => b.name === 'bwrap')!;
  const microvm = r.backends.find((b) => b.name === 'microvm')!;
  assert.equal(microvm.available, false, 'no microVM backend exists yet');
  if (which('runsc')) {
    assert.equal(gvisor.available, true, gvisor.detail);
    assert.match(gvisor.version ?? '', /^\d{8}$/);
    assert.equal(r.strongest, 'gvisor');
  } else t.diagnostic('runsc not installed: gVisor not checked');
  if (which('bwrap')) assert.equal(bwrap.available, true, bwrap.detail);
  if (!which('runsc') && bwrap.available) assert.equal(r.strongest, 'bwrap');
  const text = renderDoctorReport(r);
  assert.match(text, /^backend\s+status\s+version\s+detail/);
  assert.match(text, /strongest available backend|no isolation backend/);
  assert.doesNotThrow(() => JSON.stringify(r));
});

test('the report says so when no backend works', () => {
  const text = renderDoctorReport({
    host: { kernel: 'x', arch: 'x64', uid: 0 },
    backends: [{ name: 'gvisor', available: false, detail: 'runsc not found on PATH', warnings: [] }],
    userNamespaces: { available: false, detail: '' },
    cgroups: { version: 'none', v1Controllers: [], v2Controllers: [], detail: '' },
    overlayfs: { available: false, detail: '' },
    strongest: null,
  });
  assert.match(text, /no isolation backend works on this host/);
});
