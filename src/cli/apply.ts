/** `airlock apply`: write a session's staged changes to the tree (optionally commit them). */
import { usageError } from '../util/errors.js';
import { applySession } from '../workspace/index.js';
import { parseFlags, type Command } from './command.js';

const flags = {
  commit: { type: 'boolean' },
  message: { type: 'string', short: 'm' },
  json: { type: 'boolean' },
} as const;

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Write a session’s staged changes to the tree (optionally commit with an attestation).',
  usage: 'airlock apply [SESSION|last] [--commit -m MSG]',
  help: [
    'Writes the changes shown by `airlock diff` into the workspace. Refuses (exit 1, listing the',
    'paths, writing nothing) when any path it would touch changed since the session started, or when',
    'a path would lead outside the tree. Refuses on a running session.',
    '',
    '  --commit      git add exactly the changed paths and commit them, with the trailer',
    '                `Airlock-Session: <id>`; the attestation is attached as a git note when available',
    '  -m, --message MSG   commit message (required with --commit)',
    '  --json        print the result as JSON',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseFlags(this, argv, flags, { maxPositionals: 1 });
    if (values.commit && !values.message) throw usageError('airlock apply: --commit needs -m MSG', `usage: ${this.usage}`);
    if (values.message !== undefined && !values.commit) throw usageError('airlock apply: -m is only meaningful with --commit', `usage: ${this.usage}`);
    const { id, result } = await applySession(positionals[0], values.commit ? { commit: { message: values.message! } } : {});
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ session: id, ...result }, null, 2)}\n`);
      return 0;
    }
    const n = result.applied.length;
    process.stderr.write(`airlock apply: applied ${n} change${n === 1 ? '' : 's'} from session ${id} to ${result.root}\n`);
    if (result.commit) process.stderr.write(`airlock apply: committed ${result.commit} (Airlock-Session: ${id}); attestation: ${result.attestation}\n`);
    else if (values.commit) process.stderr.write('airlock apply: nothing to commit (no tracked or addable paths changed)\n');
    return 0;
  },
};
