/** Helpers for the tests of the eBPF bwrap tracer (e2e and attacks): real bpftrace, real bwrap. */
import { spawn, spawnSync } from 'node:child_process';
import { ebpfTracer, ebpfUnavailableReason } from '../src/audit/ebpf-tracer.js';
import type { EventInput } from '../src/audit/types.js';

/** Why the eBPF tracer cannot be tested here, or undefined. */
export function ebpfSkipReason(): string | undefined {
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bwrap is not installed';
  return ebpfUnavailableReason();
}

/**
 * Runs `sh -c script sh ...args` under bwrap (read-only view of the host, all namespaces unshared)
 * started through the tracer; returns bwrap's exit code, the events, and a tracer failure if any
 * (during the run or reported by stop()).
 */
export async function traced(dir: string, script: string, args: string[] = []): Promise<{ code: number | null; events: EventInput[]; failed: Error | undefined }> {
  const events: EventInput[] = [];
  const tracer = await ebpfTracer({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  let failed: Error | undefined;
  void tracer.failed.then((e) => (failed = e));
  const p = spawn(tracer.bwrapPath, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', script, 'sh', ...args], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  await tracer.stop().catch((e: Error) => (failed ??= e));
  return { code, events, failed };
}

