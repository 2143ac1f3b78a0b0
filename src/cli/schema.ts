/** `airlock schema`: Print the JSON Schema of airlock.yaml (for editor completion). (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of airlock.yaml (for editor completion).',
  usage: 'airlock schema',
  async run() {
    throw new AirlockError('not-implemented', 'airlock schema: not implemented yet', undefined, 70);
  },
};
