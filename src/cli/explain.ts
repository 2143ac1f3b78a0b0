/** `airlock explain [FILE]`: what a policy lets the agent read, write, run, reach, and which secrets it gets. */
import { loadPolicyFile } from '../policy/index.js';
import { explainPolicy, renderExplanation } from '../policy/explain.js';
import { parseFlags, type Command } from './command.js';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Explain a policy in plain English: what the agent may read, write, run, reach, and which secrets it gets.',
  usage: 'airlock explain [FILE] [--json]   (default ./airlock.yaml)',
  help: 'Flags:\n  --json   print the explanation as JSON (isolation, filesystem, commands, network, secrets, env, review, warnings)',
  async run(argv) {
    const { values, positionals } = parseFlags(this, argv, { json: { type: 'boolean' } }, { maxPositionals: 1 });
    const explanation = explainPolicy(loadPolicyFile(positionals[0] ?? 'airlock.yaml'));
    process.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderExplanation(explanation));
    return 0;
  },
};
