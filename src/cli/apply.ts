/** `airlock apply`: Write a session’s staged changes to the tree (optionally commit with an attestation). (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Write a session’s staged changes to the tree (optionally commit with an attestation).',
  usage: 'airlock apply [SESSION|last] [--commit -m MSG]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock apply: not implemented yet', undefined, 70);
  },
};
