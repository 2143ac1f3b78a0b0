/**
 * `bin/airlock audit` end to end on realistic fixture homes and repositories with planted FAKE
 * credentials (generated at test time): detection, redaction in every output format, read-only
 * behaviour (tree snapshot incl. mtimes before/after), exit codes, SARIF schema validity, and the
 * generated policy being a valid airlock policy. The child never sees the real home: HOME points
 * at a path that does not exist unless a test sets it to a fixture home.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { materialise, fakeValue, type Materialised } from './posture-fixture.js';
import { parseAndValidate } from '../../src/policy/index.js';
import { redact, runAudit } from '../../src/posture/index.js';
import type { AuditReport } from '../../src/posture/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin', 'airlock');
const FORMATS = ['text', 'json', 'markdown', 'sarif'] as const;

function audit(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, 'audit', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home-for-posture-tests', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(args: string[], env: Record<string, string> = {}): AuditReport {
  const r = audit([...args, '--format', 'json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AuditReport;
}

/** path → {type, mode, size, mtime, ctime, file atime, sha256} for every entry under dir. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const base = `${st.mode}|${st.size}|${st.mtimeMs}|${st.ctimeMs}`;
      if (st.isDirectory()) {
        out[p] = `dir|${base}`;
        walk(p);
      } else if (st.isFile()) out[p] = `file|${base}|atime ${st.atimeMs}|${hashNoAtime(p, st.size)}`;
      else out[p] = `other|${base}`;
    }
  };
  walk(dir);
  return out;
}

/** Hashes a file without touching its access time (so the snapshot itself changes nothing). */
function hashNoAtime(p: string, size: number): string {
  const fd = openSync(p, constants.O_RDONLY | ((constants as Record<string, number>).O_NOATIME ?? 0));
  try {
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const r = readSync(fd, buf, n, size - n, n);
      if (r <= 0) break;
      n += r;
    }
    return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Fake env credentials for --env, shaped like real ones. */
function plantedEnv(): Record<string, string> {
  const v: Record<string, string> = {};
  return {
    GITHUB_TOKEN: fakeValue('GH_PAT_ENV', v),
    AWS_ACCESS_KEY_ID: fakeValue('AWS_KEY_ID_ENV', v),
    AWS_SECRET_ACCESS_KEY: fakeValue('AWS_SECRET_ENV', v),
    OPENAI_API_KEY: fakeValue('OPENAI_ENV', v),
    ANTHROPIC_API_KEY: fakeValue('ANTHROPIC_ENV', v),
    SLACK_TOKEN: fakeValue('SLACK_ENV', v),
    NPM_TOKEN: fakeValue('NPM_ENV', v),
    GITLAB_TOKEN: fakeValue('GITLAB_ENV', v),
    DEPLOY_SECRET: fakeValue('PASSWORD_ENV', v),
    SOME_PEM: `-----BEGIN RSA PRIVATE KEY-----\n${fakeValue('PASSWORD_PEM1', v)}${fakeValue('PASSWORD_PEM2', v)}\n-----END RSA PRIVATE KEY-----`,
  };
}

// One yolo-dev tree, audited once per format with --env (the CLI takes ~1-2 s to start).
let fx: Materialised;
let env: Record<string, string>;
let snapBefore: Record<string, string>;
let snapAfter: Record<string, string>;
const outs = {} as Record<(typeof FORMATS)[number], { code: number | null; stdout: string; stderr: string }>;
let rep: AuditReport;

before(() => {
  fx = materialise('yolo-dev');
  env = plantedEnv();
  snapBefore = snapshot(fx.dir);
  for (const format of FORMATS) outs[format] = audit(['--repo', fx.repo, '--home', fx.home, '--env', '--format', format], env);
  snapAfter = snapshot(fx.dir);
  assert.equal(outs.json.code, 0, outs.json.stderr);
  rep = JSON.parse(outs.json.stdout) as AuditReport;
});

after(() => fx?.cleanup());

test('yolo-dev: every planted credential is detected and none appears in any output format', () => {
  const secrets = [...Object.values(fx.values), ...Object.values(env)];
  assert.ok(secrets.length > 30, 'fixture planted its values');
  for (const format of FORMATS) {
    const r = outs[format];
    assert.equal(r.code, 0, `${format}: ${r.stderr}`);
    assert.ok(r.stdout.length > 1000, `${format}: has output`);
    for (const s of secrets) {
      assert.ok(!r.stdout.includes(s), `${format}: leaks a planted value (${redact(s)})`);
      assert.ok(!r.stderr.includes(s), `${format}: stderr leaks a planted value (${redact(s)})`);
      // Not even a long slice of it.
      if (s.length >= 24) assert.ok(!r.stdout.includes(s.slice(4, 24)), `${format}: leaks a slice of ${redact(s)}`);
    }
  }
  const shown = JSON.stringify(rep);
  // Detected: each shaped planted value shows up as its redaction.
  for (const name of ['GH_PAT', 'GH_FINE', 'GH_OAUTH', 'GH_OAUTH2', 'GH_PAT3', 'GH_PAT4', 'ANTHROPIC_PRIMARY', 'PASSWORD_NPMAUTH', 'PASSWORD_HF', 'PASSWORD_NETRC', 'KUBE_TOKEN', 'AWS_KEY_ID', 'AWS_TEMP_ID', 'OPENAI', 'OPENAI2', 'ANTHROPIC', 'SLACK', 'NPM', 'GITLAB', 'PYPI']) {
    assert.ok(shown.includes(redact(fx.values[name]!)), `detects ${name} (${redact(fx.values[name]!)})`);
  }
  for (const [name, value] of Object.entries(env)) {
    assert.ok(rep.credentials.some((c) => c.source === 'env' && c.location === name), `detects env ${name}`);
    assert.ok(shown.includes(redact(value)), `env ${name} shown redacted`);
  }
  const kinds = new Set(rep.credentials.map((c) => c.kind));
  for (const k of ['aws-access-key', 'aws-secret-key', 'aws-session-token', 'npm-token', 'github-token', 'kube-token', 'ssh-private-key', 'registry-password', 'pypi-token', 'private-key']) assert.ok(kinds.has(k), `credential kind ${k}`);
  const ssh = rep.credentials.filter((c) => c.kind === 'ssh-private-key');
  assert.deepEqual(ssh.map((c) => c.redacted).sort(), ['passphrase-protected', 'unencrypted']);
});

test('yolo-dev: findings name the risky settings with severity, OWASP ASI id, evidence and fix', () => {
  assert.deepEqual(Object.keys(rep).filter((k) => ['summary', 'agents', 'runtime', 'credentials', 'findings'].includes(k)).sort(), ['agents', 'credentials', 'findings', 'runtime', 'summary']);
  assert.equal(rep.summary.level, 'critical');
  assert.equal(rep.summary.counts.critical + rep.summary.counts.high + rep.summary.counts.medium + rep.summary.counts.low, rep.findings.length);
  for (const f of rep.findings) {
    assert.ok(['low', 'medium', 'high', 'critical'].includes(f.severity), f.id);
    assert.ok(f.asi.length > 0 && f.asi.every((a) => /^ASI(0[1-9]|10)$/.test(a)), `${f.id} asi`);
    assert.ok(f.title && f.evidence && f.fix && f.category && f.id, `${f.id} complete`);
  }
  const ids = new Set(rep.findings.map((f) => f.id));
  for (const id of [
    'claude.bypass-permissions', 'claude.allow-any-shell', 'claude.allow-any-webfetch', 'claude.allow-credential-path', 'claude.hook-command', 'claude.enable-all-project-mcp',
    'codex.danger-full-access', 'codex.env-inherit-secrets', 'vscode.auto-approve-all', 'vscode.terminal-auto-approve-all', 'vscode.task-on-folder-open', 'vscode.workspace-trust-off',
    'gemini.allow-any-shell', 'gemini.mcp-trust', 'aider.yes-always', 'agent.inline-credential',
    'mcp.unpinned-package', 'mcp.docker-host-access', 'mcp.plain-http-remote', 'mcp.inline-credential', 'mcp.unpinned-image',
    'instructions.hidden-unicode', 'instructions.suspicious', 'script.agent-bypass-flag',
    'ci.untrusted-trigger-agent', 'ci.agent-step-secrets', 'ci.agent-write-permissions', 'ci.agent-action-unpinned',
    'cred.home-file', 'cred.dotenv-secret', 'cred.committed-token', 'cred.committed-credential-file', 'cred.env-token', 'config.malformed',
    'policy.privileged-commands', 'policy.wide-filesystem', 'policy.env-pass-secret', 'policy.broad-network', 'policy.exfil-host', 'policy.shared-kernel',
  ]) assert.ok(ids.has(id), `finding ${id}`);
  const by = (id: string) => rep.findings.filter((f) => f.id === id);
  assert.equal(by('claude.bypass-permissions')[0]!.severity, 'critical');
  assert.deepEqual(by('claude.bypass-permissions')[0]!.asi, ['ASI02', 'ASI05']);
  assert.equal(by('ci.untrusted-trigger-agent')[0]!.severity, 'critical');
  assert.ok(by('ci.untrusted-trigger-agent')[0]!.asi.includes('ASI01'));
  assert.ok(by('mcp.unpinned-package').every((f) => f.asi.includes('ASI04')));
  assert.ok(by('cred.home-file').every((f) => f.asi.includes('ASI03')));
  // Malformed files are findings with a location, never fatal.
  const malformed = by('config.malformed').map((f) => f.file!.slice(fx.repo.length + 1)).sort();
  assert.deepEqual(malformed, ['.claude/settings.local.json', '.codex/config.toml', '.github/workflows/broken.yml']);
  // Bypass flags in scripts, with line numbers.
  const flags = by('script.agent-bypass-flag').map((f) => `${f.file!.slice(fx.repo.length + 1)}:${f.line}`).sort();
  for (const where of ['package.json:6', 'package.json:7', 'scripts/night.sh:3', 'scripts/night.sh:4', '.github/workflows/claude.yml:21']) assert.ok(flags.includes(where), `flag at ${where} (got ${flags.join(', ')})`);
  // The same flag on an agent run under `airlock run` is reported low: airlock is the sandbox there.
  const contained = by('script.agent-bypass-flag').find((f) => f.file!.endsWith('scripts/night.sh') && f.line === 5)!;
  assert.equal(contained.severity, 'low');
  assert.match(contained.title, /contained by `airlock run`/);
  assert.equal(by('script.agent-bypass-flag').find((f) => f.file!.endsWith('scripts/night.sh') && f.line === 3)!.severity, 'high');
  // A fix is concrete: the env secret fix is an airlock secrets snippet.
  assert.match(by('agent.inline-credential').find((f) => f.evidence.includes('GITHUB_TOKEN'))!.fix, /secrets:\n {2}GITHUB_TOKEN:\n {4}from: env:GITHUB_TOKEN/);
});

test('yolo-dev: the tool-category map says which agents can use everything by default', () => {
  const get = (agent: string, scope: string) => rep.agents.find((a) => a.agent === agent && a.scope === scope);
  const claudeRepo = get('claude-code', 'repo')!;
  assert.equal(claudeRepo.everythingByDefault, true);
  assert.deepEqual(claudeRepo.canUse, ['filesystem', 'shell', 'network', 'secrets']);
  assert.equal(get('codex', 'home')!.everythingByDefault, true);
  assert.equal(get('vscode-copilot', 'home')!.everythingByDefault, true);
  assert.equal(get('aider', 'home')!.everythingByDefault, true);
  assert.equal(get('claude-code', 'home')!.categories.shell.access, 'unrestricted');
  assert.equal(get('gemini-cli', 'home')!.categories.shell.access, 'unrestricted');
  assert.equal(get('vscode-copilot', 'repo')!.categories.shell.access, 'unrestricted');
  assert.equal(get('aider', 'repo')!.everythingByDefault, false);
  assert.equal(get('aider', 'repo')!.categories.shell.access, 'ask');
  const mcp = get('mcp', 'repo')!;
  assert.deepEqual(mcp.mcpServers!.map((s) => s.name), ['postgres', 'slack']);
  assert.ok(rep.agents.some((a) => a.agent === 'cursor' && a.mcpServers?.some((s) => s.name === 'ops')));
  assert.ok(rep.agents.some((a) => a.name === 'Windsurf MCP servers' && a.mcpServers?.some((s) => s.command === 'npx @playwright/mcp@latest')));
  const airlock = get('airlock', 'repo')!;
  assert.equal(airlock.categories.filesystem.access, 'unrestricted');
  assert.equal(airlock.everythingByDefault, false);
});

test('contained: a narrow setup has no high or critical findings and fails no --fail-on high gate', () => {
  const fx = materialise('contained');
  try {
    const rep = json(['--repo', fx.repo, '--home', fx.home, '--no-runtime-probe']);
    const bad = rep.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
    assert.deepEqual(bad.map((f) => `${f.id}: ${f.evidence}`), []);
    assert.ok(!rep.findings.some((f) => f.id === 'mcp.inline-credential'), 'a ${VAR} reference is not an inline credential');
    assert.ok(!rep.findings.some((f) => f.id === 'mcp.unpinned-package'), 'a pinned package is fine');
    const claudeHome = rep.agents.find((a) => a.agent === 'claude-code' && a.scope === 'home')!;
    assert.equal(claudeHome.categories.shell.access, 'scoped');
    assert.equal(claudeHome.categories.network.access, 'scoped');
    assert.equal(claudeHome.everythingByDefault, false);
    const airlock = rep.agents.find((a) => a.agent === 'airlock')!;
    assert.deepEqual([airlock.categories.filesystem.access, airlock.categories.shell.access, airlock.categories.network.access, airlock.categories.secrets.access], ['scoped', 'scoped', 'scoped', 'scoped']);
    assert.equal(rep.credentials.find((c) => c.kind === 'ssh-private-key')!.redacted, 'passphrase-protected');
    assert.equal(audit(['--repo', fx.repo, '--home', fx.home, '--no-runtime-probe', '--fail-on', 'high']).code, 0);
    assert.equal(audit(['--repo', fx.repo, '--home', fx.home, '--no-runtime-probe', '--fail-on', 'low']).code, 1);
  } finally {
    fx.cleanup();
  }
});

test('read-only: auditing changes nothing it inspects (mode, size, mtime, ctime, file atime, content)', () => {
  assert.ok(Object.keys(snapBefore).length > 40);
  assert.deepEqual(snapAfter, snapBefore);
});

test('exit codes: --fail-on gates, usage errors exit 2, bad directories exit 2 with a hint', () => {
  assert.equal(audit(['--repo', fx.repo, '--home', fx.home, '--no-runtime-probe', '--fail-on', 'critical']).code, 1);
  const badLevel = audit(['--repo', fx.repo, '--home', fx.home, '--fail-on', 'severe']);
  assert.equal(badLevel.code, 2);
  assert.match(badLevel.stderr, /--fail-on "severe" is not one of low, medium, high, critical/);
  const badFormat = audit(['--repo', fx.repo, '--home', fx.home, '--format', 'html']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /--format "html"/);
  assert.equal(audit(['--bogus']).code, 2);
  const noRepo = audit(['--repo', join(fx.dir, 'nope'), '--home', fx.home]);
  assert.equal(noRepo.code, 2);
  assert.match(noRepo.stderr, /--repo .*nope: not a directory\n {2}hint: /);
});

test('sarif output validates against the SARIF 2.1.0 schema and carries one result per finding', () => {
  const r = outs.sarif;
  assert.equal(r.code, 0, r.stderr);
  const log = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string; level: string; locations?: unknown[] }[]; tool: { driver: { rules: { id: string }[] } } }[] };
  const schema = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;
  delete schema.$schema;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv.default({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const validate = ajv.compile(schema);
  assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 5)));
  assert.equal(log.runs[0]!.results.length, rep.findings.length);
  const ruleIds = new Set(log.runs[0]!.tool.driver.rules.map((x) => x.id));
  assert.ok(log.runs[0]!.results.every((x) => ruleIds.has(x.ruleId)));
  assert.ok(log.runs[0]!.results.some((x) => x.level === 'error'));
});

test('markdown output has the tool-category table and the suggested policy', () => {
  const r = outs.markdown;
  assert.match(r.stdout, /^# airlock posture audit/m);
  assert.match(r.stdout, /\| agent \| scope \| filesystem \| shell \| network \| secrets \| everything by default \| files \|/);
  assert.match(r.stdout, /\| Claude Code \| repo \| unrestricted \| unrestricted \| unrestricted \| unrestricted \| \*\*yes\*\* \|/);
  assert.match(r.stdout, /```yaml\n# Generated by `airlock audit`/);
});

test('the suggested policy is a valid airlock policy that brokers the env tokens it found', () => {
  const doc = parseAndValidate(rep.suggestedPolicy, 'suggested.yaml');
  assert.equal(doc.version, 1);
  assert.equal(doc.secrets?.GITHUB_TOKEN?.inject.host, 'api.github.com');
  assert.equal(doc.secrets?.OPENAI_API_KEY?.inject.host, 'api.openai.com');
  assert.ok(doc.commands?.allow?.includes('git'));
  assert.ok(doc.filesystem?.deny?.includes('**/.env'));
});

test('--policy: an invalid policy is a located finding, not a crash; a valid one is assessed', () => {
  const broken = join(fx.repo, 'policies', 'broken.yaml');
  const r1 = runAudit({ repo: fx.repo, home: fx.home, policy: broken, runtime: false });
  const f = r1.findings.find((x) => x.id === 'config.malformed' && x.file === broken);
  assert.ok(f, 'broken policy reported');
  assert.ok(f.line && f.line > 1);
  assert.ok(!r1.agents.some((a) => a.agent === 'airlock'), 'the repo policy is not read when --policy is given');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-posture-policy-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'version: 1\ncommands: { allow: [git] }\n');
    const r2 = runAudit({ repo: fx.repo, home: fx.home, policy: good, runtime: false });
    const a = r2.agents.find((x) => x.agent === 'airlock')!;
    assert.equal(a.categories.network.access, 'none');
    assert.equal(a.categories.shell.access, 'scoped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--home defaults to $HOME and --repo to the current directory; --env is off by default', () => {
  const fx = materialise('contained');
  try {
    const r = spawnSync(process.execPath, [BIN, 'audit', '--format', 'json', '--no-runtime-probe'], {
      encoding: 'utf8',
      cwd: fx.repo,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: fx.home, GITHUB_TOKEN: fakeValue('GH_PAT', {}) },
    });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as AuditReport;
    assert.equal(rep.inputs.home, fx.home);
    assert.equal(rep.inputs.repo, fx.repo);
    assert.equal(rep.inputs.env, false);
    assert.ok(!rep.credentials.some((c) => c.source === 'env'));
    assert.ok(rep.warnings.some((w) => /--env/.test(w)));
  } finally {
    fx.cleanup();
  }
});
