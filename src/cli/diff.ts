/** `airlock diff`: Show a session’s staged changes as a unified diff. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Show a session’s staged changes as a unified diff.',
  usage: 'airlock diff [SESSION|last]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock diff: not implemented yet', undefined, 70);
  },
};
