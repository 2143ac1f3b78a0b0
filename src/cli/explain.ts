/** `airlock explain`: Explain a policy in plain English: what the agent may read, write, run, reach, and which secrets it gets. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Explain a policy in plain English: what the agent may read, write, run, reach, and which secrets it gets.',
  usage: 'airlock explain [FILE]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock explain: not implemented yet', undefined, 70);
  },
};
