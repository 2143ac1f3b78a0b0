/**
 * ci-config: GitHub Actions workflows (and composite actions). Catches the patterns behind real
 * incidents: `pull_request_target` that checks out the PR head (Ultralytics, 2024), untrusted
 * `${{ github.event.* }}` expanded inside `run:` (script injection), third-party actions pinned to
 * a movable tag (tj-actions/changed-files, 2025), `write-all` tokens, secrets dumped or passed to
 * untrusted code, self-hosted runners reachable from fork PRs. A step rename or comment is not an
 * alarm: only added lines that change behaviour are.
 */
import { enclosingKeys, isCommentLine, type FileView } from '../context.js';
import { mk, type Report } from './common.js';

const HEAD_CHECKOUT = /(\bref|\brepository)\s*:\s*\$\{\{\s*(github\.event\.pull_request\.head\.(sha|ref|repo\.full_name)|github\.head_ref|github\.event\.pull_request\.merge_commit_sha|github\.event\.workflow_run\.head_(sha|branch))|refs\/pull\/|gh pr checkout|git fetch[^\n]*pull\/|github\.event\.pull_request\.head\.sha/;
const UNTRUSTED_EXPR = /\$\{\{[^}]*?(github\.event\.(issue|pull_request|comment|review|review_comment|discussion|discussion_comment|head_commit|commits|pages|workflow_run|inputs)\b[^}]*?\b(title|body|message|name|email|label|labels|head_ref|ref|default_branch|page_name|head_branch|display_title)\b|github\.head_ref|github\.event\.pull_request\.head\.ref)[^}]*\}\}/;
const COMPROMISED_ACTIONS = /^(tj-actions\/(changed-files|verify-changed-files|eslint-changed-files)|reviewdog\/action-[\w-]+)$/i;
const FIRST_PARTY = /^(actions|github)\//i;

export function ciRules(v: FileView, report: Report): void {
  const isAction = /(^|\/)action\.ya?ml$/.test(v.lower) && !v.isDoc;
  if (!v.isWorkflow && !isAction) return;
  const allText = v.after.map((l) => l.text);
  const triggers = new Set<string>();
  for (const t of allText) {
    for (const m of t.matchAll(/\b(pull_request_target|pull_request|issue_comment|issues|discussion|discussion_comment|workflow_run|push|schedule|workflow_dispatch)\b/g)) triggers.add(m[1]!);
  }
  const untrustedTrigger = ['pull_request_target', 'issue_comment', 'issues', 'discussion', 'discussion_comment', 'workflow_run'].find((t) => triggers.has(t));
  const privileged = triggers.has('pull_request_target') || triggers.has('workflow_run');

  // pull_request_target / workflow_run + checkout of the PR head
  const headCheckout = v.after.find((l) => HEAD_CHECKOUT.test(l.text) && !isCommentLine(l.text, 'yml'));
  const prtAdded = v.added.find((l) => /\bpull_request_target\b/.test(l.text) && !isCommentLine(l.text, 'yml'));
  const wrAdded = v.added.find((l) => /\bworkflow_run\b/.test(l.text) && !isCommentLine(l.text, 'yml'));
  const checkoutAdded = v.added.find((l) => HEAD_CHECKOUT.test(l.text) && !isCommentLine(l.text, 'yml'));
  if (privileged && headCheckout && (prtAdded || wrAdded || checkoutAdded)) {
    const at = checkoutAdded ?? headCheckout;
    report(mk(v, 'pr-target-checkout', 'ci-config', 'critical', at, '', `a ${triggers.has('pull_request_target') ? 'pull_request_target' : 'workflow_run'} workflow runs with the base repository's secrets and a write token, and this checks out the untrusted PR head: any build or script step now runs attacker code with those privileges (the Ultralytics 2024 compromise)`, 'use `on: pull_request` for anything that builds PR code, or split into an unprivileged build job and a privileged job that only consumes artifacts; never check out github.event.pull_request.head.* in pull_request_target'));
  } else if (prtAdded) {
    report(mk(v, 'pull-request-target', 'ci-config', 'medium', prtAdded, '', 'pull_request_target runs with secrets and a write token on PRs from forks; safe only if it never runs PR code', 'prefer `on: pull_request`; if pull_request_target is needed, do not check out or execute the PR head and keep permissions minimal'));
  }

  for (let i = 0; i < v.added.length; i++) {
    const l = v.added[i]!;
    const t = l.text;
    if (isCommentLine(t, 'yml')) continue;
    // script injection through ${{ github.event.* }} in run:/script:
    if (UNTRUSTED_EXPR.test(t)) {
      const keys = enclosingKeys(v, v.afterIndex[i]!);
      const envIdx = keys.findIndex((k) => k === 'env' || k === 'with');
      const runIdx = keys.findIndex((k) => k === 'run' || k === 'script');
      const inRun = runIdx >= 0 && (envIdx < 0 || runIdx < envIdx);
      if (inRun) {
        report(mk(v, 'script-injection', 'ci-config', untrustedTrigger ? 'critical' : 'high', l, '', `an attacker-controlled value (${/github\.[\w.]+/.exec(t)?.[0] ?? 'github.event'}) is expanded into a shell script before it runs: a PR title, branch name or comment can inject commands${untrustedTrigger ? ` — and this workflow runs on ${untrustedTrigger} with the repository's secrets` : ''}`, 'pass the value through an environment variable (`env: TITLE: ${{ github.event.issue.title }}` then `"$TITLE"` in the script) and quote it'));
      }
    }
    // unpinned third-party actions
    const uses = /^\s*-?\s*uses:\s*["']?([^\s@"'#]+)@([^\s"'#]+)/.exec(t);
    if (uses) {
      const [, action, ref] = uses as unknown as [string, string, string];
      if (!action.startsWith('./') && !action.startsWith('docker://') && !/^[0-9a-f]{40}$/i.test(ref)) {
        const compromised = COMPROMISED_ACTIONS.test(action.split('/').slice(0, 2).join('/'));
        if (compromised) {
          report(mk(v, 'unpinned-action', 'ci-config', 'high', l, '', `${action} was compromised by a re-pointed tag in 2025 (secrets dumped to build logs); referencing it by a movable ref (${ref}) runs whatever the tag points to today`, 'pin to a full 40-character commit SHA you have reviewed, or drop the action'));
        } else if (!FIRST_PARTY.test(action)) {
          report(mk(v, 'unpinned-action', 'ci-config', privileged ? 'high' : 'medium', l, '', `third-party action ${action} is referenced by the movable ref "${ref}": whoever controls that repository can change the code that runs with this workflow's token and secrets`, 'pin to a full commit SHA (`uses: owner/action@<40-hex> # v1.2.3`) and let Dependabot/Renovate update it'));
        }
      }
    }
    if (/^\s*permissions\s*:\s*write-all\b/.test(t)) {
      report(mk(v, 'write-all', 'ci-config', privileged ? 'critical' : 'high', l, '', 'the workflow token gets write access to every scope (contents, packages, actions, workflows…): any compromised step can push code or publish releases', 'declare the minimal permissions per job, e.g. `permissions: { contents: read }`'));
    }
    if (/runs-on\s*:.*\bself-hosted\b/.test(t) && (triggers.has('pull_request') || triggers.has('pull_request_target'))) {
      report(mk(v, 'self-hosted-pr', 'ci-config', 'high', l, '', 'a self-hosted runner serves pull_request jobs: a fork PR can run code on your machine and persist on it', 'use GitHub-hosted runners for PRs, or ephemeral, isolated self-hosted runners restricted to trusted branches'));
    }
    if (/toJSON\(\s*secrets\s*\)/i.test(t)) {
      report(mk(v, 'secrets-dump', 'ci-config', 'critical', l, '', 'toJSON(secrets) hands every repository secret to one step at once', 'pass only the individual secrets the step needs'));
    } else if (/\b(echo|printf|cat|tee)\b[^\n]*\$\{\{\s*secrets\./.test(t) || /\$\{\{\s*secrets\.[^}]+\}\}[^\n]*\|\s*(base64|xxd|rev)/.test(t)) {
      report(mk(v, 'secret-printed', 'ci-config', 'high', l, '', 'a secret is written to output or transformed (masking only catches the exact value; base64 or reversed copies leak into logs)', 'never print secrets; pass them as env to the tool that needs them'));
    } else if (privileged && /\$\{\{\s*secrets\.(?!GITHUB_TOKEN)/.test(t) && headCheckout) {
      report(mk(v, 'secrets-to-untrusted', 'ci-config', 'critical', l, '', 'a secret is exposed to a job that checks out and runs the untrusted PR head', 'do not give secrets to jobs that execute PR code'));
    }
    if (/^\s*secrets\s*:\s*inherit\b/.test(t)) {
      report(mk(v, 'secrets-inherit', 'ci-config', 'medium', l, '', '`secrets: inherit` passes every secret of the caller to the called workflow', 'pass the named secrets the workflow needs'));
    }
    if (/ACTIONS_ALLOW_UNSECURE_COMMANDS\s*:\s*['"]?true/i.test(t)) {
      report(mk(v, 'unsecure-commands', 'ci-config', 'high', l, '', 're-enables the deprecated set-env/add-path commands, which let log output inject environment variables', 'write to $GITHUB_ENV / $GITHUB_PATH instead'));
    }
  }
}
