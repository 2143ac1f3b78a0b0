/** `airlock init`: write a commented starter policy for this repository (registries + agent preset). */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPolicyText } from '../policy/index.js';
import { AGENTS, detectEcosystems, renderStarterPolicy, type AgentName } from '../policy/init.js';
import { SCHEMA_FILE } from '../policy/json-schema.js';
import { AirlockError, usageError } from '../util/errors.js';
import { parseFlags, type Command } from './command.js';

export const initCommand: Command = {
  name: 'init',
  summary: 'Write a starter airlock.yaml for this repository (detects npm/pip/cargo/go; agent presets).',
  usage: 'airlock init [--agent claude|codex|aider|gemini] [--dir DIR] [--output FILE] [--force]',
  help: [
    'Flags:',
    '  --agent NAME     add the agent preset: its binary, API host and API key injection',
    '                   (claude: api.anthropic.com x-api-key; codex: api.openai.com Bearer;',
    '                    aider: Anthropic + OpenAI APIs; gemini: generativelanguage.googleapis.com x-goog-api-key)',
    '  --dir DIR        the repository to scan (default: the current directory)',
    '  --output FILE    where to write (default: DIR/airlock.yaml; "-" prints to stdout)',
    '  --force          overwrite an existing file',
  ].join('\n'),
  async run(argv) {
    const { values } = parseFlags(this, argv, { agent: { type: 'string' }, dir: { type: 'string' }, output: { type: 'string', short: 'o' }, force: { type: 'boolean' } }, { maxPositionals: 0 });
    const agent = values.agent;
    if (agent !== undefined && !AGENTS.includes(agent as AgentName)) throw usageError(`airlock init: unknown agent "${agent}"`, `one of: ${AGENTS.join(', ')}`);
    const dir = resolve(values.dir ?? '.');
    const ecosystems = detectEcosystems(dir);
    const text = renderStarterPolicy({ agent: agent as AgentName | undefined, ecosystems, schemaRef: SCHEMA_FILE });
    const out = values.output ?? join(dir, 'airlock.yaml');
    loadPolicyText(text, out === '-' ? join(dir, 'airlock.yaml') : resolve(out)); // the starter must always be valid
    if (out === '-') {
      process.stdout.write(text);
      return 0;
    }
    try {
      writeFileSync(out, text, { flag: values.force ? 'w' : 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new AirlockError('exists', `airlock init: ${out} already exists; not overwriting it`, 'pass --force to replace it, or --output FILE to write elsewhere', 2);
      throw new AirlockError('write-failed', `airlock init: cannot write ${out} (${code ?? String(err)})`, undefined, 1);
    }
    process.stdout.write(`wrote ${out}${ecosystems.length ? ` (detected: ${ecosystems.join(', ')})` : ''}${agent ? ` with the ${agent} preset` : ''}\n  next: airlock explain ${out}   then   airlock run -- <agent>\n`);
    return 0;
  },
};
