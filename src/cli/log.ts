/** `airlock log`: Query and verify the audit trail: log list | show | verify | export. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const logCommand: Command = {
  name: 'log',
  summary: 'Query and verify the audit trail: log list | show | verify | export.',
  usage: 'airlock log <subcommand> ...',
  async run() {
    throw new AirlockError('not-implemented', 'airlock log: not implemented yet', undefined, 70);
  },
};
