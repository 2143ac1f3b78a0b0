/** `airlock discard`: throw away a session's staged changes. */
import { discardSession } from '../workspace/index.js';
import { parseFlags, type Command } from './command.js';

export const discardCommand: Command = {
  name: 'discard',
  summary: 'Throw away a session’s staged changes.',
  usage: 'airlock discard [SESSION|last]',
  help: 'Unmounts and deletes the session’s staged layers; the workspace is untouched. Refuses on a running session.',
  async run(argv) {
    const { positionals } = parseFlags(this, argv, {}, { maxPositionals: 1 });
    const { id } = await discardSession(positionals[0]);
    process.stderr.write(`airlock discard: discarded the staged changes of session ${id}\n`);
    return 0;
  },
};
