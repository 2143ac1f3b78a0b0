/** `airlock diff`: show a session's staged changes as a git-style patch (applies with `git apply`). */
import { diffSession, escapeForTerminal, renderPatch, renderStat } from '../workspace/index.js';
import { publicChange, type ChangeSet } from '../workspace/changes.js';
import { parseFlags, type Command } from './command.js';

const flags = {
  stat: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Show a session’s staged changes as a unified diff.',
  usage: 'airlock diff [SESSION|last] [--stat | --json]',
  help: [
    'Prints the session’s changes (creations, edits, deletions, renames, mode changes, symlinks,',
    'binaries as GIT binary patches) relative to the workspace; the output applies with `git apply`.',
    '.git internals the agent touched are never part of the diff (listed on stderr).',
    '',
    '  --stat   a per-file summary instead of the patch',
    '  --json   the exact change list: {session, mode, workspace, changes[], ignored[], drifted[], warnings[]}',
    '',
    'On a terminal, control bytes in the content (ESC, CR, ...) are shown as ^X so that a file cannot',
    'hide or overwrite diff lines on screen; piped output is the exact patch.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseFlags(this, argv, flags, { maxPositionals: 1 });
    const { id, set } = await diffSession(positionals[0]);
    try {
      return print(id, set, values);
    } finally {
      await set.close();
    }
  },
};

function print(id: string, set: ChangeSet, values: { json?: boolean; stat?: boolean }): number {
  if (values.json) {
    const doc = {
      session: id,
      mode: set.state.mode,
      workspace: set.state.workspace,
      changes: set.changes.map(publicChange),
      ignored: set.ignored,
      drifted: set.drifted,
      warnings: set.warnings,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  for (const w of set.warnings) process.stderr.write(`airlock diff: warning: ${w}\n`);
  const gitIgnored = set.ignored.filter((i) => i.reason.startsWith('.git')).length;
  if (gitIgnored) process.stderr.write(`airlock diff: note: ${gitIgnored} change(s) inside .git are not shown and are never applied\n`);
  for (const i of set.ignored.filter((x) => !x.reason.startsWith('.git'))) process.stderr.write(`airlock diff: note: ${i.path}: ${i.reason}\n`);
  const out = values.stat ? Buffer.from(renderStat(set.changes)) : renderPatch(set.changes);
  // On a terminal, control bytes are made visible: agent-written content cannot hide lines.
  process.stdout.write(process.stdout.isTTY ? escapeForTerminal(out) : out);
  return 0;
}
