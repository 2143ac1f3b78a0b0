/** `airlock run`: Run a command inside the sandbox under the policy. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'Run a command inside the sandbox under the policy.',
  usage: 'airlock run [--policy FILE] [--backend gvisor|bwrap] [--workspace DIR] [--] CMD [ARGS...]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock run: not implemented yet', undefined, 70);
  },
};
