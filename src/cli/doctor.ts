/** `airlock doctor`: Check which isolation backends work on this host and pick the strongest default. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check which isolation backends work on this host and pick the strongest default.',
  usage: 'airlock doctor [--json]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock doctor: not implemented yet', undefined, 70);
  },
};
