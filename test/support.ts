/** Small helpers shared by the end-to-end, attack and agent tests. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ebpfUnavailableReason } from '../src/audit/ebpf-tracer.js';

/** Whether a program is on PATH (tests skip with a reason when it is not). */
export function has(bin: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'has', bin]).status === 0;
}

/**
 * Why an end-to-end test on `backend` cannot run here, or undefined: it needs root (rootful runsc,
 * cgroups, overlay staging), the backend (bwrap also a process tracer: eBPF or strace) and `tools`.
 */
export function backendSkipReason(backend: 'gvisor' | 'bwrap', tools: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (rootful runsc, cgroups, overlay staging)';
  if (backend === 'gvisor' && !has('runsc')) return 'runsc is not installed';
  if (backend === 'bwrap' && !has('bwrap')) return 'bwrap is not installed';
  const noEbpf = backend === 'bwrap' && !has('strace') ? ebpfUnavailableReason() : undefined;
  if (noEbpf) return `no process tracer for bwrap: strace is not installed and ${noEbpf}`;
  const missing = tools.find((t) => !has(t));
  return missing ? `${missing} is not installed` : undefined;
}

/** Every regular file below `dir`, recursively (for "the secret appears in no file" checks). */
export function filesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}
