/** `airlock check FILE`: validate a policy; exit 0 when valid, 2 with located errors when not. */
import { loadPolicyFile, PolicyError } from '../policy/index.js';
import { parseFlags, type Command } from './command.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a policy file (errors name file:line:col and the key path).',
  usage: 'airlock check [FILE]   (default ./airlock.yaml)',
  help: 'Flags:\n  --json   print the result as JSON: {ok, file, digest} or {ok: false, file, problems: [{path, message, hint, line, col}]}',
  async run(argv) {
    const { values, positionals } = parseFlags(this, argv, { json: { type: 'boolean' } }, { maxPositionals: 1 });
    const file = positionals[0] ?? 'airlock.yaml';
    try {
      const policy = loadPolicyFile(file);
      if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, file: policy.source.file, digest: policy.source.digest })}\n`);
      else process.stdout.write(`${file}: ok (policy digest sha256:${policy.source.digest.slice(0, 16)}…)\n`);
      return 0;
    } catch (err) {
      if (!values.json || !(err instanceof PolicyError)) throw err;
      const problems = err.problems.map((p) => ({ ...p, path: p.path ? `policy.${p.path}` : '' }));
      process.stdout.write(`${JSON.stringify({ ok: false, file, problems })}\n`);
      return 2;
    }
  },
};
