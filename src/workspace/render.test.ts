import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeForTerminal } from './render.js';

test('escapeForTerminal: ANSI escapes and carriage-return overwrites in content become visible', () => {
  const hidden = Buffer.from('+safe line\r+\x1b[2K\x1b[1Aevil();\n+tab\tok\n+del\x7f\n', 'latin1');
  assert.equal(escapeForTerminal(hidden).toString('latin1'), '+safe line^M+^[[2K^[[1Aevil();\n+tab\tok\n+del^?\n');
  const plain = Buffer.from('diff --git a/x b/x\n+ü\n');
  assert.equal(escapeForTerminal(plain), plain, 'clean output is passed through untouched');
});
