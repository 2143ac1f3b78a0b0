/** `airlock check FILE`: validate a policy; exit 0 when valid, 2 with located errors when not. */
import { loadPolicyFile } from '../policy/index.js';
import { parseFlags, type Command } from './command.js';
import { usageError } from '../util/errors.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a policy file (errors name file:line:col and the key path).',
  usage: 'airlock check [FILE]   (default ./airlock.yaml)',
  help: 'Flags:\n  --json   print the result as JSON',
  async run(argv) {
    const { values, positionals } = parseFlags(this, argv, { json: { type: 'boolean' } }, { maxPositionals: 1 });
    const file = positionals[0] ?? 'airlock.yaml';
    if (!file) throw usageError('airlock check: FILE is required');
    const policy = loadPolicyFile(file);
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, file: policy.source.file, digest: policy.source.digest })}\n`);
    else process.stdout.write(`${file}: ok (policy digest sha256:${policy.source.digest.slice(0, 16)}…)\n`);
    return 0;
  },
};
