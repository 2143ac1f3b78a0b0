import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runAudit, type AuditReport } from './index.js';

/** Builds a throwaway repo + home from a map of files and audits it (no runtime probe, no env). */
function auditTree(files: Record<string, string>): AuditReport {
  const d = mkdtempSync(join(tmpdir(), 'airlock-agents-'));
  try {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(d, p)), { recursive: true });
      writeFileSync(join(d, p), text);
    }
    mkdirSync(join(d, 'repo'), { recursive: true });
    mkdirSync(join(d, 'home'), { recursive: true });
    return runAudit({ repo: join(d, 'repo'), home: join(d, 'home'), runtime: false });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const ids = (r: AuditReport) => r.findings.map((f) => f.id);

test('nothing configured: no agents, no findings, level none', () => {
  const r = auditTree({});
  assert.deepEqual(r.agents, []);
  assert.deepEqual(r.findings, []);
  assert.equal(r.summary.level, 'none');
});

test('Claude Code: narrow allow rules are scoped, asks stay asks, the commands feed the suggested policy', () => {
  const r = auditTree({ 'repo/.claude/settings.json': JSON.stringify({ permissions: { allow: ['Bash(npm run test:*)', 'Bash(make build)', 'WebFetch(domain:docs.rs)'], deny: ['Read(./.env)'] } }) });
  const a = r.agents.find((x) => x.agent === 'claude-code')!;
  assert.equal(a.categories.shell.access, 'scoped');
  assert.equal(a.categories.network.access, 'scoped');
  assert.equal(a.categories.filesystem.access, 'scoped');
  assert.equal(a.everythingByDefault, false);
  assert.deepEqual(ids(r), []);
  assert.match(r.suggestedPolicy, /- make\n/);
  assert.match(r.suggestedPolicy, /- npm\n/);
  assert.match(r.suggestedPolicy, /- docs\.rs\n/);
});

test('Claude Code: an interpreter with a wildcard is as broad as Bash(*)', () => {
  const r = auditTree({ 'home/.claude/settings.json': JSON.stringify({ permissions: { allow: ['Bash(python3:*)', 'Bash(curl:*)'] } }) });
  assert.equal(r.findings.filter((f) => f.id === 'claude.allow-interpreter').length, 2);
});

test('Codex: workspace-write with network access opens the network; read-only has none', () => {
  const r = auditTree({ 'repo/.codex/config.toml': 'sandbox_mode = "workspace-write"\napproval_policy = "never"\n[sandbox_workspace_write]\nnetwork_access = true\n', 'home/.codex/config.toml': 'profile = "safe"\n[profiles.safe]\nsandbox_mode = "read-only"\n' });
  const repo = r.agents.find((x) => x.agent === 'codex' && x.scope === 'repo')!;
  assert.equal(repo.categories.network.access, 'unrestricted');
  assert.equal(r.findings.find((f) => f.id === 'codex.sandbox-network')!.severity, 'high');
  const home = r.agents.find((x) => x.agent === 'codex' && x.scope === 'home')!;
  assert.equal(home.categories.network.access, 'none');
  assert.match(home.notes.join(' '), /active profile: safe/);
});

test('Gemini CLI: nested settings with YOLO approval mode and no sandbox is critical', () => {
  const r = auditTree({ 'repo/.gemini/settings.json': '{ "general": { "defaultApprovalMode": "yolo" }, "tools": { "sandbox": false }, }' });
  const g = r.findings.find((f) => f.id === 'gemini.yolo')!;
  assert.equal(g.severity, 'critical');
  assert.equal(r.agents[0]!.everythingByDefault, true);
});

test('Gemini CLI: excluding the shell tool removes shell access', () => {
  const r = auditTree({ 'home/.gemini/settings.json': '{ "excludeTools": ["run_shell_command"] }' });
  assert.equal(r.agents[0]!.categories.shell.access, 'none');
});

test('VS Code: a narrow terminal allowlist is scoped; a catch-all regex is unrestricted', () => {
  const narrow = auditTree({ 'repo/.vscode/settings.json': '{ "chat.tools.terminal.autoApprove": { "npm test": true, "git status": true, "rm": false, }, }' });
  assert.equal(narrow.agents[0]!.categories.shell.access, 'scoped');
  assert.deepEqual(ids(narrow), []);
  const broad = auditTree({ 'repo/.vscode/settings.json': '{ "chat.agent.terminal.autoApprove": { "/^.*$/": true } }' });
  assert.equal(broad.agents[0]!.categories.shell.access, 'unrestricted');
  assert.ok(ids(broad).includes('vscode.terminal-auto-approve-all'));
});

test('Cursor: cursor-agent Shell(*) permission is an unrestricted shell', () => {
  const r = auditTree({ 'home/.cursor/cli-config.json': JSON.stringify({ permissions: { allow: ['Shell(*)', 'Read(**)'], deny: [] } }) });
  assert.ok(ids(r).includes('cursor.allow-any-shell'));
  assert.equal(r.agents.find((a) => a.agent === 'cursor')!.categories.shell.access, 'unrestricted');
});

test('MCP: pinned packages and read-only workspace mounts are not flagged; host mounts and unpinned runners are', () => {
  const ok = auditTree({ 'repo/.mcp.json': JSON.stringify({ mcpServers: { a: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.4.25'] }, b: { command: 'uvx', args: ['mcp-server-git==0.6.2'] }, c: { command: 'docker', args: ['run', '-i', '--rm', 'ghcr.io/acme/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'] } } }) });
  assert.deepEqual(ids(ok), []);
  const bad = auditTree({ 'repo/mcp.json': JSON.stringify({ servers: { fs: { command: 'docker', args: ['run', '-i', '-v', '$HOME:/data', 'acme/fs'] }, web: { command: 'pnpm', args: ['dlx', 'some-mcp'] } } }) });
  assert.ok(ids(bad).includes('mcp.docker-host-access'));
  assert.ok(ids(bad).includes('mcp.unpinned-package'));
  assert.ok(ids(bad).includes('mcp.unpinned-image'));
});

test('instruction files: invisible tag characters are found and located', () => {
  const r = auditTree({ 'repo/AGENTS.md': 'line one\nBe helpful.\u{E0049}\u{E0067}\u{E006E}\n' });
  const f = r.findings.find((x) => x.id === 'instructions.hidden-unicode')!;
  assert.equal(f.line, 2);
  assert.match(f.evidence, /U\+E0049/);
});

test('CI: a pull_request workflow with read permissions and a pinned agent action is clean', () => {
  const r = auditTree({ 'repo/.github/workflows/ai.yml': 'on: pull_request\npermissions: { contents: read }\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: openai/codex-action@0123456789abcdef0123456789abcdef01234567\n        with: { openai-api-key: "${{ secrets.OPENAI_API_KEY }}" }\n' });
  assert.deepEqual(ids(r), []);
});

test('CI: `claude -p` in a run step with extra secrets and no permissions block', () => {
  const r = auditTree({ 'repo/.github/workflows/ai.yml': 'on: { issues: { types: [opened] } }\njobs:\n  triage:\n    runs-on: ubuntu-latest\n    env: { DEPLOY_KEY: "${{ secrets.DEPLOY_KEY }}" }\n    steps:\n      - run: claude -p "triage ${{ github.event.issue.title }}"\n' });
  const u = r.findings.find((f) => f.id === 'ci.untrusted-trigger-agent')!;
  assert.equal(u.severity, 'critical');
  assert.ok(ids(r).includes('ci.agent-step-secrets'));
  assert.ok(ids(r).includes('ci.agent-write-permissions'));
});

test('home credentials: an encrypted PKCS#8 key is low, an unencrypted PEM key high', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey } = generateKeyPairSync('ed25519');
  const r = auditTree({
    'home/.ssh/id_a': privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'home/.ssh/id_b': privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
    'home/.ssh/id_b.pub': 'ssh-ed25519 AAAA fixture\n',
  });
  const sev = Object.fromEntries(r.findings.filter((f) => f.id === 'cred.home-file').map((f) => [f.file!.split('/').pop(), f.severity]));
  assert.deepEqual(sev, { id_a: 'high', id_b: 'low' });
});

test('OpenCode: no permission block means everything is allowed; a bash map with "*": ask is scoped', () => {
  const open = auditTree({ 'repo/opencode.json': JSON.stringify({ $schema: 'https://opencode.ai/config.json', mcp: { gh: { type: 'local', command: ['npx', '-y', 'gh-mcp'], environment: { GH_TOKEN: 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' } } } }) });
  const a = open.agents.find((x) => x.agent === 'opencode')!;
  assert.equal(a.everythingByDefault, true);
  assert.equal(open.findings.find((f) => f.id === 'opencode.allow-any-shell')!.severity, 'critical');
  assert.ok(ids(open).includes('mcp.inline-credential'));
  assert.ok(ids(open).includes('mcp.unpinned-package'));
  assert.ok(!JSON.stringify(open).includes('A1b2C3d4E5f6G7h8I9j0'));
  const narrow = auditTree({ 'home/.config/opencode/opencode.json': '{ "permission": { "edit": "ask", "bash": { "*": "ask", "npm test": "allow" }, "webfetch": "deny" } }' });
  const b = narrow.agents.find((x) => x.agent === 'opencode')!;
  assert.deepEqual([b.categories.filesystem.access, b.categories.shell.access, b.categories.network.access], ['ask', 'scoped', 'none']);
  assert.deepEqual(ids(narrow), []);
});

test('Claude Code: additionalDirectories of / or ~ is flagged', () => {
  const r = auditTree({ 'repo/.claude/settings.json': JSON.stringify({ permissions: { additionalDirectories: ['~/', '../shared'] } }) });
  assert.equal(r.findings.filter((f) => f.id === 'claude.additional-directory-wide').length, 1);
});
