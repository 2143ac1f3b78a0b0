/** Helpers for the tests of the eBPF bwrap tracer (e2e and attacks): real bpftrace, real bwrap. */
import { spawn, spawnSync } from 'node:child_process';
import { ebpfTracer, ebpfUnavailableReason } from '../src/audit/ebpf-tracer.js';
import type { EventInput } from '../src/audit/types.js';

/** Why the eBPF tracer cannot be tested here, or undefined. */
export function ebpfSkipReason(): string | undefined {
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bwrap is not installed';
  return ebpfUnavailableReason();
}

/** Runs `script` (sh -c) under bwrap started through the tracer; returns bwrap's exit code and the events. */
export async function traced(dir: string, script: string, extraBwrapArgs: string[] = []): Promise<{ code: number | null; events: EventInput[]; failed: Error | undefined }> {
  const events: EventInput[] = [];
  const tracer = await ebpfTracer({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  let failed: Error | undefined;
  void tracer.failed.then((e) => (failed = e));
  const p = spawn(tracer.bwrapPath, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', ...extraBwrapArgs, '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', script], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  await tracer.stop();
  return { code, events, failed };
}

