/** `airlock score`: risk level and findings for a pull request, from its diff and the session evidence. */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPolicyFile, type Policy } from '../policy/index.js';
import { collectSessionEvidence, FORMATS, levelRank, parseLevel, render, Scorer, type Format } from '../review/index.js';
import { AirlockError, usageError } from '../util/errors.js';
import { parseFlags, type Command } from './command.js';

const flags = {
  diff: { type: 'string' },
  base: { type: 'string' },
  head: { type: 'string' },
  sessions: { type: 'string' },
  policy: { type: 'string' },
  format: { type: 'string' },
  'fail-on': { type: 'string' },
  repo: { type: 'string' },
} as const;

export const scoreCommand: Command = {
  name: 'score',
  summary: 'Score a pull request: risk level and findings from the diff and the session evidence.',
  usage: 'airlock score (--diff FILE|- | --base REV [--head REV]) [--sessions auto|DIR] [--policy FILE] [--format text|json|markdown|sarif] [--fail-on LEVEL] [--repo DIR]',
  help: [
    'Flags:',
    '  --diff FILE|-      score a unified diff from a file or stdin (git diff / format-patch output)',
    '  --base REV         score `git diff BASE...HEAD` in the repository (--repo, default .)',
    '  --head REV         the PR head (default HEAD)',
    '  --sessions auto|DIR  add session evidence: `auto` follows Airlock-Session trailers of the commits',
    '                     in the range to their git-notes attestation and $AIRLOCK_HOME/sessions; DIR is a',
    '                     session directory or a directory of them',
    '  --policy FILE      policy whose `review` section sets approvals, labels and expected registries',
    '  --format F         text (default), json, markdown (PR comment) or sarif (2.1.0)',
    '  --fail-on LEVEL    exit 1 when the level is LEVEL or higher (low|medium|high|critical)',
    '  --repo DIR         the git repository for --base/--head and --sessions auto (default .)',
    '',
    'Exit codes: 0 scored (below --fail-on), 1 level >= --fail-on, 2 bad usage, bad diff or bad policy,',
    '70 internal error. Nothing from the diff is executed.',
  ].join('\n'),
  async run(argv) {
    const { values } = parseFlags(this, argv, flags, { maxPositionals: 0 });
    const format = (values.format ?? 'text') as Format;
    if (!FORMATS.includes(format)) throw usageError(`airlock score: --format must be one of ${FORMATS.join(', ')} (got "${values.format}")`, `usage: ${this.usage}`);
    const failOn = values['fail-on'] !== undefined ? parseLevel(values['fail-on']) : undefined;
    if (failOn === null) throw usageError(`airlock score: --fail-on must be low, medium, high or critical (got "${values['fail-on']}")`);
    if (values.diff !== undefined && values.base !== undefined) throw usageError('airlock score: give either --diff or --base, not both', `usage: ${this.usage}`);
    if (values.diff === undefined && values.base === undefined) throw usageError('airlock score: nothing to score: give --diff FILE (or - for stdin) or --base REV', `usage: ${this.usage}`);
    if (values.head !== undefined && values.base === undefined) throw usageError('airlock score: --head needs --base');
    const repo = resolve(values.repo ?? '.');
    let policy: Policy | undefined;
    if (values.policy) policy = loadPolicyFile(values.policy);

    const scorer = new Scorer({ policy, version: version() });
    let commits: string[] = [];
    if (values.diff !== undefined) {
      await scoreStream(scorer, values.diff === '-' ? process.stdin : openDiff(values.diff));
    } else {
      const base = values.base!;
      const head = values.head ?? 'HEAD';
      for (const rev of [base, head]) if (rev.startsWith('-')) throw usageError(`airlock score: "${rev}" is not a revision`);
      await scoreGitRange(scorer, repo, base, head);
      commits = await gitLines(repo, ['rev-list', '--no-merges', `${base}..${head}`]);
    }
    if (values.sessions !== undefined) {
      if (values.sessions !== 'auto' && !existsSync(values.sessions)) throw usageError(`airlock score: --sessions ${values.sessions}: no such directory`, 'give a session directory, a directory of sessions, or `auto`');
      const paths = new Set(scorer.paths);
      const ev = collectSessionEvidence({ sessions: values.sessions, repo: values.base !== undefined || values.sessions === 'auto' ? repo : undefined, commits, diffPaths: paths, policy });
      for (const f of ev.findings) scorer.addFinding(f);
      scorer.sessions.push(...ev.sessions);
    }
    const report = scorer.finish();
    process.stdout.write(render(report, format));
    return failOn && levelRank(report.level) >= levelRank(failOn) ? 1 : 0;
  },
};

function openDiff(file: string): NodeJS.ReadableStream {
  if (!existsSync(file)) throw new AirlockError('diff-missing', `airlock score: --diff ${file}: no such file`, 'write the diff with `git diff base...head > pr.diff`, or pipe it with --diff -', 2);
  return createReadStream(file, { highWaterMark: 1 << 20 });
}

async function scoreStream(scorer: Scorer, input: NodeJS.ReadableStream): Promise<void> {
  const p = scorer.parser();
  for await (const chunk of input as AsyncIterable<Buffer | string>) p.write(chunk);
  p.end();
}

/** `git diff BASE...HEAD` streamed into the scorer. No textconv, no external diff: nothing from the repo runs. */
async function scoreGitRange(scorer: Scorer, repo: string, base: string, head: string): Promise<void> {
  const args = ['-C', repo, '-c', 'core.quotePath=true', 'diff', '--no-ext-diff', '--no-textconv', '--no-color', '--binary', '-M', '-C', '--full-index', `${base}...${head}`, '--'];
  const child = spawn('git', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_EXTERNAL_DIFF: '', GIT_PAGER: 'cat' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exit = new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => res(code ?? 1));
  });
  try {
    await scoreStream(scorer, child.stdout);
  } catch (err) {
    child.kill();
    throw err;
  }
  const code = await exit.catch((err: Error) => {
    throw new AirlockError('git-failed', `airlock score: cannot run git: ${err.message}`, 'install git, or pass --diff FILE', 2);
  });
  if (code !== 0) throw new AirlockError('git-failed', `airlock score: git diff ${base}...${head} failed in ${repo}: ${stderr.trim().split('\n')[0] ?? ''}`, 'check --repo, --base and --head (fetch the PR refs first)', 2);
}

function gitLines(repo: string, args: string[]): Promise<string[]> {
  return new Promise((res) => {
    const child = spawn('git', ['-C', repo, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => res([]));
    child.on('close', (code) => res(code === 0 ? out.split('\n').filter(Boolean) : []));
  });
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
