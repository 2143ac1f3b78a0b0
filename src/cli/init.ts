/** `airlock init`: Write a starter airlock.yaml for this repository (detects npm/pip/cargo/go; agent presets). (not implemented yet). */
import { AirlockError } from '../util/errors.js';
import type { Command } from './command.js';

export const initCommand: Command = {
  name: 'init',
  summary: 'Write a starter airlock.yaml for this repository (detects npm/pip/cargo/go; agent presets).',
  usage: 'airlock init [--agent claude|codex|aider|gemini] [--force] [--output FILE]',
  async run() {
    throw new AirlockError('not-implemented', 'airlock init: not implemented yet', undefined, 70);
  },
};
