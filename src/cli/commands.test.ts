import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from './commands.js';

test('every registry entry loads its command, with the same name and summary', async () => {
  for (const entry of commands) {
    const cmd = await entry.load();
    assert.equal(cmd.name, entry.name);
    assert.equal(cmd.summary, entry.summary, `summary of ${entry.name} differs between commands.ts and its file`);
    assert.ok(cmd.usage.startsWith(`airlock ${entry.name}`), `usage of ${entry.name} starts with its name`);
  }
});
