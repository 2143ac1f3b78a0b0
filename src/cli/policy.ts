/** `airlock policy`: Policy tools: policy suggest SESSION... prints the tightest policy that covers those sessions. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const policyCommand: Command = {
  name: 'policy',
  summary: 'Policy tools: policy suggest SESSION... prints the tightest policy that covers those sessions.',
  usage: 'airlock policy suggest SESSION...',
  async run() {
    throw new AirlockError('not-implemented', 'airlock policy: not implemented yet', undefined, 70);
  },
};
