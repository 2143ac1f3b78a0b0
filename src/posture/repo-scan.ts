/**
 * One bounded walk over the repository (no `.git`, `node_modules`, build output; at most a few
 * thousand files of at most 1 MiB) that finds:
 * - agent launches with approvals or sandboxes switched off, in scripts, package.json, Makefiles,
 *   Dockerfiles, devcontainers and CI (`claude --dangerously-skip-permissions`, `codex --yolo`,
 *   `--dangerously-bypass-approvals-and-sandbox`, `gemini --yolo`, `aider --yes-always`, ...);
 * - committed credentials: token-shaped values in any text file, and secrets in `.env` files.
 */
import { basename, relative } from 'node:path';
import type { AuditContext } from './context.js';
import { readTextFile, walkFiles } from './fsread.js';
import { findTokens, isSecretName, kindFromName, looksLikeSecretValue } from './secrets.js';
import { airlockRunFix } from './agent-entry.js';
import { checkCredentialFile, CREDENTIAL_FILE_NAMES } from './credentials.js';
import type { Severity } from './types.js';

interface FlagRule {
  re: RegExp;
  /** Only when the line also mentions this agent. */
  agent?: RegExp;
  label: string;
  severity: Severity;
  agentCmd: string;
}

const FLAG_RULES: FlagRule[] = [
  { re: /--dangerously-skip-permissions\b/, label: 'Claude Code with every permission check skipped (--dangerously-skip-permissions)', severity: 'high', agentCmd: 'claude' },
  { re: /--permission-mode[= ]+["']?bypassPermissions/, label: 'Claude Code in bypassPermissions mode', severity: 'high', agentCmd: 'claude' },
  { re: /--(allowedTools|allowed-tools)[= ]+["']?[^"'\n]*\bBash(\(\*\)|\b(?!\())/, label: 'Claude Code with unrestricted Bash allowed', severity: 'high', agentCmd: 'claude' },
  { re: /--dangerously-bypass-approvals-and-sandbox\b/, label: 'Codex with approvals and sandbox bypassed', severity: 'high', agentCmd: 'codex' },
  { re: /(--sandbox|-s)[= ]+["']?danger-full-access|sandbox_mode=["']?danger-full-access/, label: 'Codex without its sandbox (danger-full-access)', severity: 'high', agentCmd: 'codex' },
  { re: /(--ask-for-approval|-a)[= ]+["']?never\b/, agent: /\bcodex\b/, label: 'Codex that never asks for approval', severity: 'medium', agentCmd: 'codex' },
  { re: /--full-auto\b/, agent: /\bcodex\b/, label: 'Codex in --full-auto mode (workspace-write sandbox, no approval prompts)', severity: 'low', agentCmd: 'codex' },
  { re: /--yolo\b/, label: 'an agent in YOLO mode (--yolo: every action approved)', severity: 'high', agentCmd: 'gemini' },
  { re: /--approval-mode[= ]+["']?yolo/, label: 'Gemini CLI in YOLO approval mode', severity: 'high', agentCmd: 'gemini' },
  { re: /--yes-always\b/, agent: /\baider\b/, label: 'Aider answering yes to everything (--yes-always)', severity: 'high', agentCmd: 'aider' },
  { re: /(\s--force\b|\s-f\b)/, agent: /\bcursor-agent\b/, label: 'cursor-agent with --force (commands run without approval)', severity: 'high', agentCmd: 'cursor-agent' },
  { re: /--allow-all-tools\b|--allow-all-paths\b/, agent: /\bcopilot\b/, label: 'Copilot CLI with every tool allowed', severity: 'high', agentCmd: 'copilot' },
  { re: /--dangerously-allow-all\b/, label: 'an agent with every action allowed (--dangerously-allow-all)', severity: 'high', agentCmd: 'amp' },
];

/** Files that launch things: scripts, manifests, build files, CI — not source code or docs. */
const SCRIPT_NAME = /^(package\.json|tasks\.json|devcontainer\.json|Makefile|makefile|GNUmakefile|Justfile|justfile|Dockerfile.*|Containerfile|Jenkinsfile|Procfile|Earthfile)$|\.(sh|bash|zsh|fish|ps1|bat|cmd|mk|ya?ml|toml)$/;
/** Source code and docs: documented example keys (AWS's ...EXAMPLE) are not alarms there. */
const SOURCE_EXT = /\.(ts|tsx|js|jsx|mjs|cjs|py|rb|go|rs|java|kt|php|cs|md|txt)$/;
const TEXT_EXT = /\.(env|sh|bash|zsh|ps1|py|rb|js|mjs|cjs|ts|tsx|jsx|go|rs|java|kt|php|cs|ya?ml|toml|json|jsonc|ini|cfg|conf|properties|xml|tf|tfvars|md|txt|npmrc|pypirc|netrc|pem|key|sql|mdc)$|^(\.env.*|\.npmrc|\.pypirc|\.netrc|\.git-credentials|Dockerfile.*|Makefile|credentials|config)$/i;

export function scanRepoFiles(ctx: AuditContext): void {
  const files = walkFiles(ctx.repo, { maxDepth: 8, maxFiles: 4000 });
  let budget = 64 * 1024 * 1024;
  for (const file of files) {
    const name = basename(file);
    const rel = relative(ctx.repo, file);
    const isDotenv = /^\.env(\..*)?$/.test(name) || name.endsWith('.env');
    if (!TEXT_EXT.test(name) && !SCRIPT_NAME.test(name) && !isDotenv) continue;
    // Bounded: files over 512 KiB (bundles, lockfiles, data) are skipped, and the walk stops reading
    // after 64 MiB in total, so a huge tree costs seconds, not minutes.
    if (budget <= 0) {
      ctx.warn(`repository scan stopped after 64 MiB of text; later files were not checked for tokens`);
      break;
    }
    const r = readTextFile(file, 512 * 1024);
    if (!r.ok || r.text.includes('\u0000')) continue;
    budget -= r.text.length;
    const text = r.text;
    if (SCRIPT_NAME.test(name) || rel.startsWith('.github/')) scanFlags(ctx, file, text);
    if (isDotenv) scanDotenv(ctx, file, text, name);
    else if (credentialFileKind(rel)) scanCommittedCredentialFile(ctx, file, credentialFileKind(rel)!);
    else scanCommittedTokens(ctx, file, text, SOURCE_EXT.test(name), TEST_PATH.test(rel));
  }
}

/** `.npmrc`, `.aws/credentials`, `gh/hosts.yml`...: which credential file format a repo path is, if any. */
function credentialFileKind(rel: string): string | undefined {
  const name = basename(rel);
  if (CREDENTIAL_FILE_NAMES.has(name) && name.startsWith('.')) return name;
  if (/(^|\/)\.aws\/credentials$/.test(rel)) return 'credentials';
  if (/(^|\/)gh\/hosts\.yml$/.test(rel)) return 'hosts.yml';
  return undefined;
}

/** Test code and fixtures: tokens there are usually fakes, reported lower. */
const TEST_PATH = /(^|\/)(tests?|__tests__|spec|fixtures?|testdata|examples?)\/|\.(test|spec)\.[a-z]+$/;

function scanCommittedCredentialFile(ctx: AuditContext, file: string, name: string): void {
  const n = checkCredentialFile(ctx, file, name, 'critical');
  if (n === 0) scanCommittedTokens(ctx, file, ctx.read(file).ok ? (ctx.read(file) as { text: string }).text : '', false);
}

function scanFlags(ctx: AuditContext, file: string, text: string): void {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const rule of FLAG_RULES) {
      if (!rule.re.test(line)) continue;
      if (rule.agent && !rule.agent.test(line)) continue;
      if (/^\s*(#|\/\/)/.test(line) && !/\.ya?ml$/.test(file)) continue; // commented-out shell/JS
      const inCi = /\.github\/workflows\/|\.gitlab-ci\.yml$|Jenkinsfile$/.test(file);
      const testCode = TEST_PATH.test(relative(ctx.repo, file));
      const agentCmd = /\b(claude|codex|gemini|aider|cursor-agent|copilot|amp|opencode)\b/.exec(line)?.[1] ?? rule.agentCmd;
      // `airlock run ... -- codex --dangerously-bypass-...` is the recommended shape: the agent's own
      // checks are off because airlock is the sandbox. Reported low, so the map stays complete.
      const airlockRun = /\bairlock\s+run\b/.exec(line);
      const contained = airlockRun !== null && airlockRun.index < line.search(rule.re);
      ctx.add({
        id: 'script.agent-bypass-flag',
        severity: contained || testCode ? 'low' : inCi && rule.severity === 'high' ? 'critical' : rule.severity,
        category: inCi ? 'ci' : 'agent-config',
        title: `${inCi ? 'CI runs' : 'A script runs'} ${rule.label}${contained ? ', contained by `airlock run`' : testCode ? ' (in test code or fixtures)' : ''}`,
        evidence: `${ctx.display(file)}:${i + 1}: ${ctx.redactor.quote(line.trim()).slice(0, 200)}`,
        asi: contained ? ['ASI02'] : ['ASI02', 'ASI05'],
        fix: contained
          ? "Keep the airlock policy narrow: with the agent's own checks off, the policy is the only boundary (`airlock explain`)."
          : `Drop the flag and give the agent an explicit allowlist instead; where full autonomy is wanted, contain it: \`airlock run --policy airlock.yaml -- ${agentCmd} ...\`.\n${airlockRunFix(agentCmd)}`,
        file,
        line: i + 1,
      });
      break;
    }
  });
}

function scanCommittedTokens(ctx: AuditContext, file: string, text: string, source: boolean, testCode = false): void {
  for (const t of findTokens(text)) {
    if (source && /EXAMPLE/.test(t.value)) continue;
    const severity = testCode ? 'medium' : 'critical';
    const line = text.slice(0, t.index).split('\n').length;
    if (t.shape.kind === 'private-key' && /ENCRYPTED/.test(t.value)) continue;
    const red = ctx.redactor.redact(t.value);
    ctx.credential({ source: 'repo-file', kind: t.shape.kind, location: `${file}:${line}`, redacted: red, longLived: t.shape.longLived, severity });
    ctx.add({
      id: 'cred.committed-token',
      severity,
      category: 'credential',
      title: `A ${t.shape.kind} is written in a repository file${testCode ? ' (test code: confirm it is a fake)' : ''}`,
      evidence: `${ctx.display(file)}:${line}: ${red}`,
      asi: ['ASI03'],
      fix: 'Revoke and rotate the credential now (it is readable by every agent and every clone, and in git history); remove it from the file and history; load it from a secret store or the environment, brokered by airlock `secrets:` so the agent sees only a placeholder.',
      file,
      line,
    });
  }
}

function scanDotenv(ctx: AuditContext, file: string, text: string, name: string): void {
  const example = /\.(example|sample|template|dist|defaults)$/i.test(name) || /example|sample|template/i.test(name);
  const lines = text.split('\n');
  const found: { key: string; line: number; red: string; kind: string }[] = [];
  lines.forEach((l, i) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(l);
    if (!m) {
      for (const t of findTokens(l)) found.push({ key: '(unnamed)', line: i + 1, red: ctx.redactor.redact(t.value), kind: t.shape.kind });
      return;
    }
    const key = m[1]!;
    let val = m[2]!.trim();
    if (/^["']/.test(val)) val = val.slice(1, val.lastIndexOf(val[0]!) > 0 ? val.lastIndexOf(val[0]!) : undefined);
    else val = val.replace(/\s+#.*$/, '');
    const shaped = findTokens(val)[0];
    if (!looksLikeSecretValue(val)) return;
    if (!shaped && !isSecretName(key)) return;
    if (example && !shaped) return;
    found.push({ key, line: i + 1, red: ctx.redactor.redact(val), kind: shaped?.shape.kind ?? kindFromName(key) });
  });
  for (const f of found) {
    ctx.credential({ source: 'repo-file', kind: f.kind, location: `${file}:${f.key}`, redacted: f.red, longLived: true, severity: 'high' });
    ctx.add({
      id: 'cred.dotenv-secret',
      severity: 'high',
      category: 'credential',
      title: `${name} in the repository holds a secret (${f.key}) every agent in this directory can read`,
      evidence: `${ctx.display(file)}:${f.line}: ${f.key}=${f.red}`,
      asi: ['ASI03'],
      fix: `Keep secrets out of the working tree the agent sees. Under airlock, .env files are hidden and the value is brokered:\nfilesystem:\n  deny: ["**/.env", "**/.env.*"]\nsecrets:\n  ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.key) ? f.key : 'API_TOKEN'}:\n    from: env:${/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.key) ? f.key : 'API_TOKEN'}\n    inject: { host: <the API host>, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`,
      file,
      line: f.line,
    });
    ctx.hints.denyPaths.add('**/.env');
  }
}
