/**
 * The gVisor monitor against a real `runsc run`: trace points arrive over the SEQPACKET sink,
 * become process/file/network events, never carry the environment, and a missing monitor
 * stops the sandbox from starting (fail closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGvisorMonitor, podInitConfig } from '../../src/audit/gvisor-monitor.js';
import type { EventInput } from '../../src/audit/types.js';

function runscUsable(): string | undefined {
  const r = spawnSync('runsc', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return 'runsc is not installed';
  if (process.getuid?.() !== 0) return 'runsc run needs root here';
  return undefined;
}

function writeBundle(dir: string, args: string[], ws: string, env: string[] = ['PATH=/usr/bin:/bin']): string {
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle, { recursive: true });
  writeFileSync(
    join(bundle, 'config.json'),
    JSON.stringify({
      ociVersion: '1.0.0',
      process: { terminal: false, user: { uid: 0, gid: 0 }, args, env, cwd: '/ws', noNewPrivileges: true, capabilities: {} },
      root: { path: '/', readonly: true },
      hostname: 'airlock',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=64m'] },
        { destination: '/ws', type: 'bind', source: ws, options: ['rbind', 'rw'] },
      ],
      linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
    }),
  );
  return bundle;
}

async function runsc(runDir: string, bundle: string, podInit: string): Promise<{ code: number | null; stderr: string }> {
  const id = `airlock-audit-${process.pid}-${Date.now()}`;
  const root = join(runDir, 'runsc-root');
  const p = spawn('runsc', ['--root', root, '--network=none', '--ignore-cgroups', `--pod-init-config=${podInit}`, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  spawnSync('runsc', ['--root', root, 'delete', '-force', id]);
  return { code, stderr };
}

test('gVisor trace points become process, file and network events; env is never recorded', { timeout: 60_000 }, async (t) => {
  const why = runscUsable();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-gvmon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const events: EventInput[] = [];
  const mon = await startGvisorMonitor({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  const script = 'cat /etc/hostname >/dev/null; echo hi > /ws/out.txt; /bin/true one "two words"; (exec 3<>/dev/tcp/10.1.2.3/80) 2>/dev/null; echo no > /etc/nope 2>/dev/null; exit 3';
  const bundle = writeBundle(dir, ['/bin/bash', '-c', script], ws, ['PATH=/usr/bin:/bin', 'GITHUB_TOKEN=airlock_ph_testsession_deadbeef']);
  const r = await runsc(dir, bundle, mon.podInitConfigPath);
  await new Promise((res) => setTimeout(res, 100));
  const stats = await mon.stop();
  assert.equal(r.code, 3, r.stderr);
  assert.equal(stats.connected, true);
  assert.equal(stats.dropped, 0);
  const execs = events.filter((e) => e.kind === 'process' && e.action === 'exec' && e.decision === 'allow');
  assert.ok(execs.some((e) => e.subject === '/bin/bash' && (e.detail?.argv as string[])[2] === script), 'init exec');
  assert.ok(execs.some((e) => e.subject === '/usr/bin/cat' && (e.detail?.argv as string[]).join(' ') === 'cat /etc/hostname'));
  const tru = execs.find((e) => e.subject === '/usr/bin/true');
  assert.deepEqual(tru?.detail?.argv, ['/bin/true', 'one', 'two words']);
  assert.equal(tru?.detail?.ppid, 1);
  const exits = events.filter((e) => e.kind === 'process' && e.action === 'exit');
  assert.ok(exits.some((e) => e.subject === '/bin/bash' && e.detail?.exitCode === 3));
  assert.ok(events.some((e) => e.kind === 'file' && e.subject === '/ws/out.txt' && e.decision === 'allow'));
  assert.ok(events.some((e) => e.kind === 'file' && e.subject === '/etc/nope' && e.decision === 'deny'), 'write to read-only root denied');
  const conn = events.find((e) => e.kind === 'network' && e.subject === '10.1.2.3:80');
  assert.ok(conn, 'connect recorded');
  assert.equal(conn.decision, 'deny');
  assert.ok(!JSON.stringify(events).includes('airlock_ph_'), 'placeholders from the environment never reach events');
  assert.equal(readFileSync(join(ws, 'out.txt'), 'utf8'), 'hi\n');
});

test('without a listening monitor the sandbox does not start (fail closed)', { timeout: 60_000 }, async (t) => {
  const why = runscUsable();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-gvmon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const podInit = join(dir, 'pod-init.json');
  writeFileSync(podInit, JSON.stringify(podInitConfig(join(dir, 'nobody-listens.sock'))));
  const bundle = writeBundle(dir, ['/bin/sh', '-c', 'echo ran > /ws/ran'], ws);
  const r = await runsc(dir, bundle, podInit);
  assert.notEqual(r.code, 0);
  assert.throws(() => readFileSync(join(ws, 'ran')), 'the agent command must not have run');
});
