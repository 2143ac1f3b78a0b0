/** `airlock score`: Score a pull request: risk level and findings from the diff and the session evidence. (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const scoreCommand: Command = {
  name: 'score',
  summary: 'Score a pull request: risk level and findings from the diff and the session evidence.',
  usage: 'airlock score (--diff FILE|- | --base REV [--head REV]) [--format text|json|markdown|sarif]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock score: not implemented yet', undefined, 70);
  },
};
