/** `airlock run`: run a command inside the sandbox under the policy; exits with the command's code. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPolicyFile } from '../policy/index.js';
import { resolveBackend } from '../sandbox/index.js';
import { defaultPolicy } from '../sandbox/default-policy.js';
import { runSession } from '../session/run-session.js';
import { usageError } from '../util/errors.js';
import { parseFlags, type Command } from './command.js';

const flags = {
  policy: { type: 'string' },
  backend: { type: 'string' },
  workspace: { type: 'string' },
  'unsafe-no-sandbox': { type: 'boolean' },
  'network-log': { type: 'boolean' },
} as const;

export const runCommand: Command = {
  name: 'run',
  summary: 'Run a command inside the sandbox under the policy.',
  usage: 'airlock run [--policy FILE] [--backend gvisor|bwrap] [--workspace DIR] [--network-log] [--unsafe-no-sandbox] [--] CMD [ARGS...]',
  help: `flags:
  --policy FILE          policy file (default ./airlock.yaml; without one, a built-in default policy:
                         the current directory as workspace, no network, no secrets, baseline tools)
  --backend NAME         gvisor | bwrap | auto (default: the policy's runtime.isolation, else gvisor).
                         An unavailable backend is an error, never a silent fallback.
  --workspace DIR        the repository to work on (default: filesystem.workspace, else the current
                         directory); staged copy-on-write: see \`airlock diff/apply/discard\`
  --network-log          at the end, print every host contacted and every host denied (with counts)
  --unsafe-no-sandbox    run without any isolation (debugging only)

environment:
  AIRLOCK_HOME           where sessions, logs and the host identity key live
  AIRLOCK_BWRAP_TRACER   ebpf | strace: the process tracer of the bwrap backend (default: ebpf where
                         the host allows it, which the sandbox never waits for, else strace)

exit status: the command's own; 124 when runtime.limits.wallTime was reached; 125 when the session
could not start (nothing ran); 2 for usage and policy errors.`,
  async run(argv) {
    const { values, positionals, rest } = parseFlags(this, argv, flags, { stopAtPositional: true });
    const cmd = [...positionals, ...rest];
    if (cmd.length === 0) throw usageError('airlock run: missing the command to run', `usage: ${this.usage}`);
    if (values.backend !== undefined && !['gvisor', 'bwrap', 'auto'].includes(values.backend)) {
      throw usageError(`airlock run: --backend must be gvisor, bwrap or auto (got "${values.backend}")`, 'for no isolation at all, pass --unsafe-no-sandbox');
    }
    let policy;
    if (values.policy) policy = loadPolicyFile(values.policy);
    else if (existsSync('airlock.yaml')) policy = loadPolicyFile('airlock.yaml');
    else {
      policy = defaultPolicy();
      process.stderr.write('airlock: no ./airlock.yaml: using the built-in default policy (workspace = current directory, no network, no secrets, baseline commands)\n');
    }
    const unsafe = values['unsafe-no-sandbox'] === true;
    const backend = await resolveBackend(values.backend, policy.runtime.isolation, unsafe);
    if (unsafe) process.stderr.write('airlock: WARNING: --unsafe-no-sandbox: the command runs directly on this host with no isolation\n');
    const workspace = values.workspace ? resolve(values.workspace) : policy.filesystem.workspace ?? process.cwd();
    const r = await runSession({
      policy,
      backend,
      workspace,
      argv: cmd,
      tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      networkLog: values['network-log'] === true,
    });
    return r.exitCode;
  },
};
