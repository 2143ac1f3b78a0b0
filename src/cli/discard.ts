/** `airlock discard`: Throw away a session’s staged changes. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const discardCommand: Command = {
  name: 'discard',
  summary: 'Throw away a session’s staged changes.',
  usage: 'airlock discard [SESSION|last]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock discard: not implemented yet', undefined, 70);
  },
};
