/**
 * sandbox/: the process door. Backends behind one interface (`launch(spec) → handle`), one mount
 * plan for all of them, the seccomp filter builder, limits, and the reaper that guarantees nothing
 * outlives a session. Other modules import only from here.
 */
import { AirlockError } from '../util/errors.js';
import { bwrapBackend } from './bwrap.js';
import { gvisorBackend } from './gvisor.js';
import { unsafeBackend } from './unsafe.js';
import type { Backend, BackendName } from './types.js';
import { which } from './which.js';

export type { Backend, BackendName, LaunchSpec, MountSpec, SandboxHandle } from './types.js';
export { buildMountPlan, SANDBOX_HOME, type MountPlan, type PlanEntry } from './mount-plan.js';
export { buildSeccompFilter, buildSeccompProgram } from './seccomp.js';
export { sandboxEnv, SANDBOX_PATH } from './env.js';
export { locate, realBinDirs } from './executables.js';
export { sweepStale } from './reaper.js';
export { EXIT_WALLTIME } from './supervise.js';
export { makeGvisorBackend, ociConfig } from './gvisor.js';
export { bwrapArgs } from './bwrap.js';

/** Strongest first. */
const ORDER: ('gvisor' | 'bwrap')[] = ['gvisor', 'bwrap'];

/** Quick availability check (binary present). `airlock doctor` (detect.ts) does the full probe. */
export function backendInstalled(name: 'gvisor' | 'bwrap'): boolean {
  return Boolean(which(name === 'gvisor' ? 'runsc' : 'bwrap'));
}

/**
 * The backend for a run: `--backend` wins over the policy's `runtime.isolation`; `auto` picks the
 * strongest installed; an unavailable backend is an error, never a silent fallback.
 */
export function selectBackend(requested: string | undefined, isolation: string, unsafeNoSandbox = false): Backend {
  if (unsafeNoSandbox) return unsafeBackend;
  const want = requested ?? isolation;
  if (want === 'auto') {
    for (const b of ORDER) if (backendInstalled(b)) return getBackend(b);
    throw new AirlockError('backend-unavailable', 'no isolation backend is available (runsc and bwrap are both missing)', 'install gVisor (runsc) or bubblewrap; run `airlock doctor`', 2);
  }
  if (want === 'microvm') throw new AirlockError('backend-unavailable', 'the microvm backend is not available on this host (no usable /dev/kvm)', 'use --backend gvisor or bwrap', 2);
  if (want !== 'gvisor' && want !== 'bwrap') throw new AirlockError('usage', `unknown backend "${want}"`, 'one of: gvisor, bwrap (or runtime.isolation: auto)', 2);
  if (!backendInstalled(want)) {
    throw new AirlockError(
      'backend-unavailable',
      `the ${want} backend was requested but is not available (${want === 'gvisor' ? 'runsc' : 'bwrap'} not found)`,
      `install it, or choose another backend explicitly (--backend ${want === 'gvisor' ? 'bwrap' : 'gvisor'}); airlock never falls back silently`,
      2,
    );
  }
  return getBackend(want);
}

/**
 * As `selectBackend`, but `auto` is decided by `detectBackends()` (doctor's probe: it really starts
 * a trivial sandbox with each backend), so "strongest" means strongest *working*, not installed.
 */
export async function resolveBackend(requested: string | undefined, isolation: string, unsafeNoSandbox = false): Promise<Backend> {
  if (!unsafeNoSandbox && (requested ?? isolation) === 'auto') {
    const { detectBackends } = await import('./detect.js');
    const report = await detectBackends();
    if (!report.strongest) throw new AirlockError('backend-unavailable', 'runtime.isolation: auto, but no isolation backend works on this host', 'run `airlock doctor` to see why; install gVisor (runsc) or bubblewrap', 2);
    return getBackend(report.strongest);
  }
  return selectBackend(requested, isolation, unsafeNoSandbox);
}

export function getBackend(name: BackendName): Backend {
  if (name === 'gvisor') return gvisorBackend;
  if (name === 'bwrap') return bwrapBackend;
  return unsafeBackend;
}
