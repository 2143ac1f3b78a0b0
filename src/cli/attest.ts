/** `airlock attest`: Verify the session attestation attached to a commit. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const attestCommand: Command = {
  name: 'attest',
  summary: 'Verify the session attestation attached to a commit.',
  usage: 'airlock attest verify REV',
  async run() {
    throw new AirlockError('not-implemented', 'airlock attest: not implemented yet', undefined, 70);
  },
};
