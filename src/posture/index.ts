/**
 * posture/: `airlock audit` — what an agent set-up on this machine and in this repository can
 * reach (file system, shell, network, secrets), whether the runtime isolates it, which long-lived
 * credentials it can see, and what to fix. Read-only by construction: every file access goes
 * through `fsread.ts` (O_RDONLY|O_NONBLOCK|O_NOATIME, regular files only), nothing is executed.
 *
 * Example:
 * ```ts
 * const report = runAudit({ repo: '/src/app', home: '/home/me' });
 * process.stdout.write(formatReport(report, 'sarif'));
 * ```
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { AuditContext } from './context.js';
import { scanClaude } from './agents/claude.js';
import { scanCodex } from './agents/codex.js';
import { scanCursor } from './agents/cursor.js';
import { scanVscode } from './agents/vscode.js';
import { scanGemini } from './agents/gemini.js';
import { scanAider } from './agents/aider.js';
import { scanOpencode } from './agents/opencode.js';
import { scanMcpFiles } from './agents/mcp-files.js';
import { scanInstructionFile } from './agents/instructions.js';
import { scanRepoFiles } from './repo-scan.js';
import { scanWorkflows } from './ci.js';
import { scanEnvironment, scanHomeCredentials } from './credentials.js';
import { scanAirlockPolicies } from './airlock-policy.js';
import { probeRuntime, unprobedRuntime, type RuntimeProbeOptions } from './runtime.js';
import { parseHostPattern } from '../policy/index.js';
import { SEVERITIES, type AuditReport, type RuntimeReport, type Severity } from './types.js';
import { join } from 'node:path';

export * from './types.js';
export { formatReport, FORMATS, type Format } from './format.js';
export { redact, findTokens, Redactor } from './secrets.js';
export { parseJsonc } from './jsonc.js';
export { probeRuntime } from './runtime.js';

const INSTRUCTION_FILES = ['CLAUDE.md', 'CLAUDE.local.md', 'AGENTS.md', 'GEMINI.md', '.windsurfrules', '.clinerules', '.github/copilot-instructions.md'];

export interface AuditOptions {
  /** Repository to audit (default: cwd). */
  repo?: string;
  /** Home directory to audit (default: $HOME). */
  home?: string;
  /** An airlock policy to assess; default: airlock.yaml in the repo if present. */
  policy?: string;
  /** Include this environment in the credential scan (`--env`); undefined = not scanned. */
  env?: Record<string, string | undefined>;
  /** Runtime probe options, or false for `--no-runtime-probe`. */
  runtime?: RuntimeProbeOptions | false;
  /** Fixed timestamp (tests). */
  now?: Date;
  /** Results of really starting each backend (sandbox/detect.ts `detectBackends().backends`), for `--probe-backends`. */
  verifiedBackends?: { name: string; available: boolean; version?: string; detail: string; path?: string }[];
}

export function runAudit(opts: AuditOptions = {}): AuditReport {
  const repo = resolve(opts.repo ?? process.cwd());
  const home = resolve(opts.home ?? process.env.HOME ?? '/root');
  const ctx = new AuditContext(repo, home);

  // Each scanner is isolated: a bug tripped by a strange file costs that scanner, not the audit.
  const safe = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      ctx.warn(`${name}: skipped after an internal error (${ctx.redactor.quote(String((err as Error)?.message ?? err)).slice(0, 200)})`);
    }
  };
  safe('claude', () => scanClaude(ctx));
  safe('codex', () => scanCodex(ctx));
  safe('cursor', () => scanCursor(ctx));
  safe('vscode', () => scanVscode(ctx));
  safe('gemini', () => scanGemini(ctx));
  safe('aider', () => scanAider(ctx));
  safe('opencode', () => scanOpencode(ctx));
  safe('mcp', () => scanMcpFiles(ctx));
  safe('instructions', () => {
    for (const f of INSTRUCTION_FILES) scanInstructionFile(ctx, resolve(repo, f), 'Agent');
    for (const f of ['.claude/CLAUDE.md', '.codex/AGENTS.md', '.gemini/GEMINI.md']) scanInstructionFile(ctx, join(home, f), 'Agent');
  });
  safe('airlock-policy', () => scanAirlockPolicies(ctx, opts.policy));
  safe('ci', () => scanWorkflows(ctx));
  safe('repo-files', () => scanRepoFiles(ctx));
  safe('home-credentials', () => scanHomeCredentials(ctx));
  if (opts.env) {
    const env = opts.env;
    safe('environment', () => scanEnvironment(ctx, env));
  }

  let runtime = unprobedRuntime();
  if (opts.runtime !== false) {
    const probeOpts = opts.runtime ?? {};
    safe('runtime', () => {
      runtime = probeRuntime(probeOpts);
      for (const b of opts.verifiedBackends ?? []) {
        if (b.name !== 'gvisor' && b.name !== 'bwrap' && b.name !== 'microvm') continue;
        Object.assign(runtime.backends[b.name], { available: b.available, verified: true, detail: b.detail, ...(b.version ? { version: b.version } : {}), ...(b.path ? { path: b.path } : {}) });
      }
      runtimeFindings(ctx, runtime);
    });
  }

  const order = (s: Severity) => SEVERITIES.indexOf(s);
  const findings = ctx.findings.sort((a, b) => order(b.severity) - order(a.severity) || a.category.localeCompare(b.category) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0));
  const counts = { low: 0, medium: 0, high: 0, critical: 0 } as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  const level: Severity | 'none' = [...SEVERITIES].reverse().find((s) => counts[s] > 0) ?? 'none';

  const report: AuditReport = {
    tool: { name: 'airlock', command: 'audit', version: version() },
    generatedAt: (opts.now ?? new Date()).toISOString(),
    inputs: { repo, home, ...(opts.policy ? { policy: resolve(opts.policy) } : {}), env: !!opts.env, runtimeProbe: runtime.probed },
    summary: { level, counts, agents: ctx.agents.length, credentials: ctx.credentials.length },
    agents: ctx.agents,
    runtime,
    credentials: ctx.credentials,
    findings,
    suggestedPolicy: suggestPolicy(ctx, runtime),
    warnings: opts.env ? ctx.warnings : [...ctx.warnings, 'environment variables were not scanned (pass --env to include them)'],
  };
  // Last line of defence: no registered secret value and nothing token-shaped leaves this function.
  return ctx.redactor.scrubDeep(report);
}

/** Does the report reach `level` (for `--fail-on`)? */
export function reachesLevel(report: AuditReport, level: Severity): boolean {
  const min = SEVERITIES.indexOf(level);
  return report.findings.some((f) => SEVERITIES.indexOf(f.severity) >= min);
}

function runtimeFindings(ctx: AuditContext, rt: RuntimeReport): void {
  const fix = `Run agents inside a per-session sandbox: \`airlock run --policy airlock.yaml -- <agent>\` with\nruntime: { isolation: ${rt.backends.gvisor.available ? 'gvisor' : rt.backends.bwrap.available ? 'bwrap' : 'gvisor'} }${!rt.backends.gvisor.available ? '\n(install gVisor: `apt-get install runsc`)' : ''}`;
  if (rt.isolation === 'none') {
    ctx.add({ id: 'runtime.no-isolation', severity: 'high', category: 'runtime', title: 'Agents started here run on the host with the user\'s full rights (no container, gVisor or VM boundary)', evidence: rt.evidence.join('; '), asi: ['ASI05', 'ASI10'], fix });
  } else if (rt.isolation === 'container') {
    ctx.add({ id: 'runtime.shared-kernel', severity: 'medium', category: 'runtime', title: 'This environment is a plain container: agents share the host kernel', evidence: rt.evidence.join('; '), asi: ['ASI05'], fix: `A container escape or kernel bug reaches the host. ${fix}` });
  }
  if (rt.dockerSocket.reachable) {
    ctx.add({
      id: 'runtime.docker-socket',
      severity: rt.isolation === 'none' ? 'high' : 'critical',
      category: 'runtime',
      title: 'A Docker socket is reachable: any agent here can start a privileged container and own the host',
      evidence: [...rt.dockerSocket.paths, ...(rt.dockerSocket.dockerHost ? [`DOCKER_HOST=${rt.dockerSocket.dockerHost}`] : [])].join(', '),
      asi: ['ASI03', 'ASI05'],
      fix: 'Do not mount or expose the Docker socket where agents run; airlock never passes it into the sandbox (keep /var/run out of filesystem.read/write), and unset DOCKER_HOST for agent sessions.',
    });
  }
  if (rt.runningAsRoot && rt.isolation !== 'gvisor' && rt.isolation !== 'microvm') {
    ctx.add({ id: 'runtime.root', severity: 'medium', category: 'runtime', title: 'Agents here run as root', evidence: 'effective uid 0', asi: ['ASI03'], fix: 'Run agents as an unprivileged user; airlock drops all capabilities inside its sandbox.' });
  }
  if (!rt.backends.gvisor.available && !rt.backends.bwrap.available && rt.backends.microvm.available === false) {
    ctx.add({ id: 'runtime.no-backend', severity: 'low', category: 'runtime', title: 'No airlock isolation backend is available on this machine', evidence: 'runsc: not found; bwrap: not found or user namespaces disabled; /dev/kvm: unavailable', asi: ['ASI05'], fix: 'Install gVisor (`apt-get install runsc`) or bubblewrap (`apt-get install bubblewrap`), then check with `airlock doctor`.' });
  }
}

const SAFE_CMD = /^[A-Za-z0-9_.+-]{1,64}$/;

function suggestPolicy(ctx: AuditContext, rt: RuntimeReport): string {
  const commands = ['git', ...[...ctx.hints.commands].filter((c) => SAFE_CMD.test(c) && !/^(sudo|su|doas|docker|podman|curl|wget|ssh|scp|nc|eval)$/.test(c))];
  const hosts = [...ctx.hints.hosts].filter((h) => typeof parseHostPattern(h) !== 'string' && !/^(localhost|127\.|::1)/.test(h));
  const deny = ['**/.env', '**/.env.*', ...[...ctx.hints.denyPaths].filter((p) => !/[\s"'{}[\],]/.test(p))];
  const doc: Record<string, unknown> = {
    version: 1,
    runtime: { isolation: rt.backends.gvisor.available || !rt.backends.bwrap.available ? 'gvisor' : 'bwrap', limits: { wallTime: '2h', memory: '4GiB', pids: 512 } },
    filesystem: { workspace: '.', deny: [...new Set(deny)] },
    commands: { allow: [...new Set(commands)].sort(), deny: ['git push --force*'] },
  };
  if (hosts.length) doc.network = { allow: [...new Set(hosts)].sort() };
  if (ctx.hints.secrets.size) {
    const secrets: Record<string, unknown> = {};
    for (const [name, inj] of [...ctx.hints.secrets].sort(([a], [b]) => a.localeCompare(b))) secrets[name] = { from: `env:${name}`, inject: inj, ttl: '30m' };
    doc.secrets = secrets;
    const net = (doc.network as { allow: string[] } | undefined) ?? { allow: [] };
    for (const s of Object.values(secrets) as { inject: { host: string } }[]) if (!net.allow.includes(s.inject.host)) net.allow.push(s.inject.host);
    doc.network = net;
  }
  return `# Generated by \`airlock audit\` from what it found: a default-deny starting point.\n# Review it, then: airlock check airlock.yaml && airlock run --policy airlock.yaml -- <agent>\n${toYaml(doc)}`;
}

let cachedVersion: string | undefined;
function version(): string {
  if (cachedVersion) return cachedVersion;
  try {
    cachedVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}
