/** `airlock audit`: posture audit of the agent set-up in a repository and home directory. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FORMATS, reachesLevel, runAudit, formatReport, SEVERITIES, type Format, type Severity } from '../posture/index.js';
import { AirlockError, usageError } from '../util/errors.js';
import { parseFlags, type Command } from './command.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Posture audit: what the agent setup can reach (fs, shell, network, secrets) and what to fix.',
  usage: 'airlock audit [--repo DIR] [--policy FILE] [--home DIR] [--env] [--format text|json|markdown|sarif] [--fail-on LEVEL] [--no-runtime-probe] [--probe-backends]',
  help: [
    'Reads agent configurations (Claude Code, Codex, Cursor, VS Code/Copilot, MCP, Aider, Gemini CLI, OpenCode,',
    'airlock policies), CI workflows, credential files and the runtime; changes nothing it inspects.',
    '',
    'Flags:',
    '  --repo DIR           repository to audit (default: the current directory)',
    '  --home DIR           home directory to audit (default: $HOME)',
    '  --policy FILE        an airlock policy to assess (default: airlock.yaml in the repo, if any)',
    '  --env                include this process\'s environment variables in the credential scan',
    '                       (off by default so the report depends only on --repo and --home)',
    '  --format F           text (default), json, markdown or sarif',
    '  --fail-on LEVEL      exit 1 when a finding is at LEVEL or above (low, medium, high, critical)',
    '  --no-runtime-probe   skip the runtime checks (container / gVisor / microVM, Docker socket, backends)',
    '  --probe-backends     verify airlock\'s backends by starting a trivial sandbox (as `airlock doctor`)',
    '                       instead of only looking for runsc/bwrap on PATH',
    '',
    'Secret values are never printed: they appear as a prefix and a length, e.g. ghp_…(40 chars).',
    'Exit: 0 ok, 1 --fail-on level reached, 2 usage error.',
  ].join('\n'),
  async run(argv) {
    const { values } = parseFlags(
      this,
      argv,
      {
        repo: { type: 'string' },
        home: { type: 'string' },
        policy: { type: 'string' },
        env: { type: 'boolean' },
        format: { type: 'string' },
        'fail-on': { type: 'string' },
        'no-runtime-probe': { type: 'boolean' },
        'probe-backends': { type: 'boolean' },
        // Hidden: probe a fake root (tests).
        root: { type: 'string' },
      },
      { maxPositionals: 0 },
    );
    const format = (values.format ?? 'text') as Format;
    if (!FORMATS.includes(format)) throw usageError(`airlock audit: --format "${values.format}" is not one of ${FORMATS.join(', ')}`, `usage: ${this.usage}`);
    const failOn = values['fail-on'] as Severity | undefined;
    if (failOn !== undefined && !SEVERITIES.includes(failOn)) throw usageError(`airlock audit: --fail-on "${failOn}" is not one of ${SEVERITIES.join(', ')}`, `usage: ${this.usage}`);
    const repo = resolve(values.repo ?? process.cwd());
    const home = resolve(values.home ?? process.env.HOME ?? '/root');
    mustBeDir(repo, '--repo');
    mustBeDir(home, '--home');
    // Opt-in: really start each backend (takes about a second; runs sandboxes, so not by default).
    let verifiedBackends;
    if (values['probe-backends'] && !values['no-runtime-probe']) {
      const { detectBackends } = await import('../sandbox/detect.js');
      verifiedBackends = (await detectBackends()).backends;
    }
    const report = runAudit({
      verifiedBackends,
      repo,
      home,
      policy: values.policy,
      env: values.env ? { ...process.env } : undefined,
      runtime: values['no-runtime-probe'] ? false : { root: values.root ? resolve(values.root) : '/' },
    });
    process.stdout.write(formatReport(report, format));
    return failOn && reachesLevel(report, failOn) ? 1 : 0;
  },
};

function mustBeDir(dir: string, flag: string): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new AirlockError('audit-input', `airlock audit: ${flag} ${dir}: not a directory`, `pass an existing directory with ${flag}`, 2);
}
