/** `airlock audit`: Posture audit: what the agent setup can reach (fs, shell, network, secrets) and what to fix. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Posture audit: what the agent setup can reach (fs, shell, network, secrets) and what to fix.',
  usage: 'airlock audit [--repo DIR] [--home DIR] [--format text|json|markdown|sarif]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock audit: not implemented yet', undefined, 70);
  },
};
