/**
 * CI workflows (`.github/workflows/*.yml`) that run an agent: steps using
 * `anthropics/claude-code-action`, `openai/codex-action`, `google-github-actions/run-gemini-cli`,
 * or running `claude -p`, `codex exec`, `gemini -p`, `aider`, `cursor-agent`... For each agent
 * step: which secrets it is handed (step, job and workflow `env`, `with`), the token permissions
 * (`write-all`, `contents: write`, missing block), and whether untrusted input can start it
 * (`pull_request_target`, `issue_comment`, `issues`, ...), which turns a prompt injection in an
 * issue into use of those secrets and permissions.
 */
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { AuditContext } from './context.js';
import { isRecord } from './jsonc.js';
import { listDir, lineOf } from './fsread.js';
import type { Severity } from './types.js';

const AGENT_ACTION = /^(anthropics\/claude-code(-base)?-action|openai\/codex-action|google-github-actions\/run-gemini-cli|[\w.-]+\/(aider|cursor|opencode|amp|copilot)[\w.-]*-action)@/i;
const AGENT_RUN = /(^|[\s;&|(])(claude\s+(-p|--print|-c|--continue|"|')|npx\s+(-y\s+)?@anthropic-ai\/claude-code|codex\s+(exec|e\b|--)|npx\s+(-y\s+)?@openai\/codex|gemini\s+(-p|--prompt|--yolo|-y)|npx\s+(-y\s+)?@google\/gemini-cli|aider\s|cursor-agent\s|copilot\s+(-p|--prompt)|opencode\s+run|amp\s+-x)/;
const UNTRUSTED_TRIGGERS = ['pull_request_target', 'issue_comment', 'issues', 'pull_request_review_comment', 'pull_request_review', 'discussion', 'discussion_comment', 'workflow_run'];
const MODEL_KEY = /^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN|OPENAI_API_KEY|GEMINI_API_KEY|GOOGLE_API_KEY|OPENROUTER_API_KEY|AZURE_OPENAI_API_KEY)$/i;

export function scanWorkflows(ctx: AuditContext): void {
  const dir = join(ctx.repo, '.github', 'workflows');
  for (const name of listDir(dir).filter((n) => /\.ya?ml$/.test(n))) {
    const file = join(dir, name);
    const r = ctx.read(file);
    if (!r.ok) continue;
    const doc = parseDocument(r.text, { prettyErrors: false, uniqueKeys: false });
    if (doc.errors.length) {
      ctx.malformed(file, 'GitHub Actions workflow', `invalid YAML (${doc.errors[0]!.code})`, r.text.slice(0, doc.errors[0]!.pos[0]).split('\n').length);
      continue;
    }
    let wf: unknown;
    try {
      wf = doc.toJS({ maxAliasCount: 50 });
    } catch {
      ctx.malformed(file, 'GitHub Actions workflow', 'cannot be read as YAML data');
      continue;
    }
    if (!isRecord(wf)) continue;
    auditWorkflow(ctx, file, r.text, wf);
  }
}

function triggers(on: unknown): string[] {
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.filter((x): x is string => typeof x === 'string');
  if (isRecord(on)) return Object.keys(on);
  return [];
}

function secretRefs(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') for (const m of v.matchAll(/secrets\.([A-Za-z0-9_]+)|secrets\[['"]([A-Za-z0-9_]+)['"]\]/g)) out.add(m[1] ?? m[2]!);
  else if (Array.isArray(v)) v.forEach((x) => secretRefs(x, out));
  else if (isRecord(v)) Object.values(v).forEach((x) => secretRefs(x, out));
}

function writePerms(p: unknown): string[] | 'default' {
  if (p === undefined) return 'default';
  if (p === 'write-all') return ['write-all'];
  if (p === 'read-all' || p === null) return [];
  if (isRecord(p)) return Object.entries(p).filter(([, v]) => v === 'write').map(([k]) => `${k}: write`);
  return [];
}

function auditWorkflow(ctx: AuditContext, file: string, text: string, wf: Record<string, unknown>): void {
  // `on:` may be parsed as the boolean key `true` by YAML 1.1 readers; the yaml package keeps "on".
  const trig = triggers(wf.on ?? wf.true);
  const untrusted = trig.filter((t) => UNTRUSTED_TRIGGERS.includes(t));
  const wfSecrets = new Set<string>();
  secretRefs(wf.env, wfSecrets);
  const jobs = isRecord(wf.jobs) ? wf.jobs : {};
  for (const [jobName, job] of Object.entries(jobs)) {
    if (!isRecord(job)) continue;
    const steps = Array.isArray(job.steps) ? job.steps : [];
    const jobSecrets = new Set(wfSecrets);
    secretRefs(job.env, jobSecrets);
    const jp = job.permissions !== undefined ? writePerms(job.permissions) : writePerms(wf.permissions);
    const checksOutHead = steps.some((s) => isRecord(s) && typeof s.uses === 'string' && s.uses.startsWith('actions/checkout') && isRecord(s.with) && typeof s.with.ref === 'string' && /pull_request\.head|head_ref|github\.event\.pull_request\.head\.(sha|ref)/.test(s.with.ref));
    steps.forEach((step, idx) => {
      if (!isRecord(step)) return;
      const uses = typeof step.uses === 'string' ? step.uses : '';
      const run = typeof step.run === 'string' ? step.run : '';
      if (!AGENT_ACTION.test(uses) && !AGENT_RUN.test(run)) return;
      const label = `jobs.${jobName}.steps[${idx}]${typeof step.name === 'string' ? ` "${step.name}"` : ''}`;
      const stepSecrets = new Set(jobSecrets);
      secretRefs(step.env, stepSecrets);
      secretRefs(step.with, stepSecrets);
      if (run) secretRefs(run, stepSecrets);
      const extra = [...stepSecrets].filter((s) => !MODEL_KEY.test(s) && s !== 'GITHUB_TOKEN');
      const hasGithubToken = stepSecrets.has('GITHUB_TOKEN') || AGENT_ACTION.test(uses);
      const writes = jp === 'default' ? ['(no permissions block: the repository default, often write)'] : jp;
      const line = lineOf(text, uses || run.split('\n')[0]!.slice(0, 40));
      const agentLabel = uses ? uses.split('@')[0]! : ctx.redactor.quote(run.trim().split('\n')[0]!).slice(0, 100);

      if (untrusted.length && (stepSecrets.size || (writes.length && hasGithubToken))) {
        ctx.add({
          id: 'ci.untrusted-trigger-agent',
          severity: extra.length || checksOutHead || jp === 'default' || (Array.isArray(jp) && jp.length) ? 'critical' : 'high',
          category: 'ci',
          title: `Workflow lets untrusted events (${untrusted.join(', ')}) drive an agent that holds secrets${writes.length ? ' and write permissions' : ''}`,
          evidence: `${ctx.display(file)}: on: ${trig.join(', ')}; ${label}: ${agentLabel}; secrets: ${[...stepSecrets].join(', ') || 'none'}; permissions: ${writes.join(', ') || 'read'}${checksOutHead ? '; checks out the pull request head' : ''}`,
          asi: ['ASI01', 'ASI03'],
          fix: 'Anyone who can open an issue, comment or PR can steer the agent with text. Restrict who can trigger it (check github.event.comment.author_association / an allowlist), run on pull_request (not pull_request_target), never check out PR code in a privileged workflow, pass the agent only its model key, and set `permissions: { contents: read }` (grant pull-requests: write only to a separate, non-agent step).',
          file,
          line,
        });
      }
      if (extra.length) {
        ctx.add({
          id: 'ci.agent-step-secrets',
          severity: 'high',
          category: 'ci',
          title: `Agent step is handed secrets beyond its model key (${extra.join(', ')})`,
          evidence: `${ctx.display(file)}: ${label}: ${agentLabel}; secrets: ${extra.join(', ')}`,
          asi: ['ASI03'],
          fix: `Give the agent step only the model API key; move ${extra.join(', ')} to a later step that does not run the agent, or broker them with airlock:\nsecrets:\n${extra.map((s) => `  ${s}:\n    from: env:${s}\n    inject: { host: <the API host>, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`).join('\n')}`,
          file,
          line,
        });
      }
      const writeList = Array.isArray(jp) ? jp : [];
      if (writeList.length || jp === 'default') {
        const sev: Severity = writeList.includes('write-all') || writeList.some((w) => /^(contents|actions|workflows|packages|id-token): write/.test(w)) ? 'high' : 'medium';
        ctx.add({
          id: 'ci.agent-write-permissions',
          severity: jp === 'default' ? 'medium' : sev,
          category: 'ci',
          title: jp === 'default' ? 'Agent job has no permissions block (GITHUB_TOKEN gets the repository default, often write)' : `Agent job's GITHUB_TOKEN can write (${writeList.join(', ')})`,
          evidence: `${ctx.display(file)}: jobs.${jobName}: permissions ${jp === 'default' ? 'not set' : writeList.join(', ')}; ${label}: ${agentLabel}`,
          asi: ['ASI03'],
          fix: `Declare least privilege on the job:\npermissions:\n  contents: read\n  pull-requests: write   # only if the agent must comment\nand keep id-token, actions and workflows write away from agent jobs.`,
          file,
          line: lineOf(text, 'permissions') ?? line,
        });
      }
      if (uses && !/@[0-9a-f]{40}$/.test(uses)) {
        ctx.add({
          id: 'ci.agent-action-unpinned',
          severity: 'low',
          category: 'ci',
          title: `Agent action ${uses} is referenced by a movable tag, not a commit SHA`,
          evidence: `${ctx.display(file)}: ${label}: uses: ${uses}`,
          asi: ['ASI04'],
          fix: `Pin it: uses: ${uses.split('@')[0]}@<40-character commit SHA>  # ${uses.split('@')[1] ?? ''}`,
          file,
          line,
        });
      }
    });
  }
}
