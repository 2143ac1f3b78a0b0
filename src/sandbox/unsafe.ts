/**
 * `--unsafe-no-sandbox`: runs the command directly on the host with the scrubbed environment and
 * the workspace as working directory. Nothing is enforced: no mount view, no limits except wall
 * time, no network boundary. Exists for debugging policies; airlock says so loudly on stderr.
 */
import { spawn } from 'node:child_process';
import { supervise } from './supervise.js';
import type { Backend, LaunchSpec, SandboxHandle } from './types.js';

export const unsafeBackend: Backend = {
  name: 'none',
  securityModel: 'none: no isolation at all (--unsafe-no-sandbox). The command sees the whole host.',
  async launch(spec: LaunchSpec): Promise<SandboxHandle> {
    const argv = [...spec.prelude, ...spec.argv];
    const env = { ...spec.env, HOME: process.env.HOME ?? '/', PATH: process.env.PATH ?? spec.env.PATH ?? '/usr/bin:/bin' };
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', cwd: spec.workspace.hostPath, env, detached: false });
    return supervise({
      child,
      wallTimeMs: spec.limits.wallTimeMs,
      signal: (sig) => child.kill(sig),
      killAll: () => child.kill('SIGKILL'),
      teardown: () => undefined,
    });
  },
};
