/**
 * The GitHub Actions example (examples/github/agent-under-airlock.yml) and the repository's
 * action.yml: both parse as YAML, the example pins every third-party action by commit SHA, passes
 * the scoring action only inputs action.yml declares, never expands workflow inputs into shell
 * code, keeps the GitHub token away from the agent's step, and every `run:` script is valid bash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');
const AIRLOCK_ACTION = 'your-org/airlock@AIRLOCK_COMMIT_SHA';

interface Step { name?: string; uses?: string; run?: string; id?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job { needs?: string | string[]; permissions?: Record<string, string>; steps: Step[]; env?: Record<string, string> }

function load(path: string): unknown {
  const doc = parseDocument(readFileSync(join(root, path), 'utf8'));
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${path} does not parse`);
  return doc.toJS();
}

test('examples/github/agent-under-airlock.yml and action.yml parse and fit together', { timeout: 30_000 }, () => {
  const action = load('action.yml') as { inputs: Record<string, unknown>; runs: { steps: Step[] } };
  const wf = load('examples/github/agent-under-airlock.yml') as { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> };
  assert.deepEqual(wf.permissions, {}, 'top-level permissions: {} (each job asks for what it needs)');
  const { agent, score } = wf.jobs;
  assert.ok(agent && score, 'jobs agent and score');
  assert.equal(score.needs, 'agent');
  for (const [name, job] of Object.entries(wf.jobs)) assert.ok(job.permissions, `job ${name} declares its permissions`);

  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  for (const s of steps) {
    if (!s.uses) continue;
    assert.ok(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/.test(s.uses) || s.uses === AIRLOCK_ACTION, `"${s.uses}" is not pinned to a commit SHA`);
  }
  const scoring = score.steps.find((s) => s.uses === AIRLOCK_ACTION);
  assert.ok(scoring, 'the score job uses the airlock action');
  for (const k of Object.keys(scoring.with ?? {})) assert.ok(k in action.inputs, `action.yml has no input "${k}"`);
  // the comment step reads the Markdown the action writes
  assert.ok(action.runs.steps.some((s) => s.env?.OUT_DIR === '${{ runner.temp }}/airlock-score'), 'action.yml writes its reports to runner.temp/airlock-score');
  assert.ok(score.steps.some((s) => s.run?.includes('$RUNNER_TEMP/airlock-score/comment.md')));

  // the agent runs under airlock with the API key in airlock's environment, and no GitHub token there
  const run = agent.steps.find((s) => s.run?.includes('"$AIRLOCK" run'));
  assert.ok(run, 'a step runs the agent with `airlock run`');
  assert.ok(run.env?.ANTHROPIC_API_KEY?.includes('secrets.ANTHROPIC_API_KEY'));
  assert.ok(!JSON.stringify(run.env).includes('github.token') && !JSON.stringify(agent.env ?? {}).includes('github.token'), 'the token is not in the agent step');
  const checkout = agent.steps.find((s) => s.uses?.startsWith('actions/checkout@') && !s.with?.repository);
  assert.equal(checkout?.with?.['persist-credentials'], false, 'no token left in .git/config for the agent');

  for (const s of [...steps, ...action.runs.steps]) {
    if (!s.run) continue;
    assert.ok(!/\$\{\{\s*(inputs|github\.event)\./.test(s.run), `step "${s.name}" expands an input into shell code`);
    const script = s.run.replace(/\$\{\{[^}]*\}\}/g, 'X');
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(r.status, 0, `step "${s.name}": ${r.stderr}`);
  }
});
