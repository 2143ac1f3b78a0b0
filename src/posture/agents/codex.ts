/**
 * OpenAI Codex CLI: `~/.codex/config.toml` and a repository's `.codex/config.toml` (TOML, parsed
 * with smol-toml). `sandbox_mode` is `read-only`, `workspace-write` or `danger-full-access`;
 * `approval_policy` is `untrusted`, `on-failure`, `on-request` or `never`;
 * `[sandbox_workspace_write] network_access` opens the network inside the sandbox;
 * `[shell_environment_policy] inherit` decides which environment variables commands see;
 * `profile = "x"` selects `[profiles.x]`; `[mcp_servers.x]` declares MCP servers.
 */
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { AuditContext } from '../context.js';
import { isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { auditMcpServers } from '../mcp.js';

export function scanCodex(ctx: AuditContext): void {
  scanFile(ctx, join(ctx.repo, '.codex', 'config.toml'), 'repo');
  scanFile(ctx, join(ctx.home, '.codex', 'config.toml'), 'home');
}

function scanFile(ctx: AuditContext, file: string, scope: 'repo' | 'home'): void {
  const r = ctx.read(file);
  if (!r.ok) return;
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(r.text) as Record<string, unknown>;
  } catch (err) {
    const e = err as { line?: number; column?: number; message?: string };
    ctx.malformed(file, 'Codex config.toml', `invalid TOML${e.line ? ` at line ${e.line}, column ${e.column}` : ''}`, e.line);
    ctx.agents.push(makeEntry({ agent: 'codex', name: 'Codex CLI', scope, files: [file], categories: defaults('config unreadable: defaults assumed'), notes: ['config.toml is malformed; Codex would refuse to start or use defaults'] }));
    return;
  }
  const profileName = typeof doc.profile === 'string' ? doc.profile : undefined;
  const profile = profileName && isRecord(doc.profiles) && isRecord(doc.profiles[profileName]) ? (doc.profiles[profileName] as Record<string, unknown>) : {};
  const get = (k: string): unknown => profile[k] ?? doc[k];
  const sandbox = typeof get('sandbox_mode') === 'string' ? (get('sandbox_mode') as string) : undefined;
  const approval = typeof get('approval_policy') === 'string' ? (get('approval_policy') as string) : undefined;
  const sww = isRecord(get('sandbox_workspace_write')) ? (get('sandbox_workspace_write') as Record<string, unknown>) : {};
  const network = sww.network_access === true;
  const sep = isRecord(get('shell_environment_policy')) ? (get('shell_environment_policy') as Record<string, unknown>) : {};
  const inherit = typeof sep.inherit === 'string' ? sep.inherit : 'all';
  const notes: string[] = [];
  if (profileName) notes.push(`active profile: ${profileName}`);

  const envDetail = inherit === 'none' ? 'commands get an empty environment' : inherit === 'core' ? 'commands get only core variables (HOME, PATH, ...)' : `commands inherit the environment (shell_environment_policy.inherit = ${inherit}${sep.ignore_default_excludes === true ? ', default KEY/SECRET/TOKEN excludes disabled' : ''})`;
  const ask = approval === 'untrusted' ? 'ask' : undefined;

  let cats;
  if (sandbox === 'danger-full-access') {
    const a = approval === 'never' || approval === 'on-failure' || approval === 'on-request' ? 'unrestricted' : 'ask';
    cats = {
      filesystem: cat(a, `sandbox_mode danger-full-access, approval_policy ${approval ?? 'default'}`),
      shell: cat(a, 'commands run without a sandbox'),
      network: cat(a, 'no sandbox: any host'),
      secrets: cat(a, `every file the user can read; ${envDetail}`),
    };
    ctx.add({
      id: 'codex.danger-full-access',
      severity: approval === 'never' ? 'critical' : 'high',
      category: 'agent-config',
      title: `Codex runs commands without its sandbox (sandbox_mode = "danger-full-access"${approval === 'never' ? ', approval_policy = "never"' : ''})`,
      evidence: `${ctx.display(file)}: sandbox_mode = "danger-full-access"${approval ? `, approval_policy = "${approval}"` : ''}`,
      asi: ['ASI02', 'ASI05'],
      fix: `Use sandbox_mode = "workspace-write" with approval_policy = "on-request". ${airlockRunFix('codex')}`,
      file,
      line: lineOf(r.text, 'danger-full-access'),
    });
  } else if (sandbox === 'read-only') {
    cats = {
      filesystem: cat('scoped', 'sandbox_mode read-only: reads anywhere, writes nowhere'),
      shell: cat(ask ?? 'scoped', 'commands run in the read-only sandbox'),
      network: cat('none', 'no network in the sandbox'),
      secrets: cat('scoped', `the sandbox can read credential files but not send them; ${envDetail}`),
    };
  } else {
    cats = {
      filesystem: cat('scoped', `sandbox_mode ${sandbox ?? 'workspace-write (default)'}: writes in the workspace, reads anywhere`),
      shell: cat(ask ?? 'scoped', `commands run in the sandbox; approval_policy ${approval ?? 'on-request (default)'}`),
      network: network ? cat('unrestricted', 'sandbox_workspace_write.network_access = true: any host') : cat('none', 'no network in the sandbox (default)'),
      secrets: cat(network ? 'unrestricted' : 'scoped', `reads credential files in the home${network ? ' and can send them anywhere' : ''}; ${envDetail}`),
    };
    if (network) {
      ctx.add({
        id: 'codex.sandbox-network',
        severity: approval === 'never' ? 'high' : 'medium',
        category: 'agent-config',
        title: 'Codex sandbox allows network access to any host',
        evidence: `${ctx.display(file)}: [sandbox_workspace_write] network_access = true`,
        asi: ['ASI02'],
        fix: 'Set network_access = false, or run under airlock where egress goes through an allowlisting proxy:\nnetwork:\n  allow: [registry.npmjs.org, api.openai.com]',
        file,
        line: lineOf(r.text, 'network_access'),
      });
    }
  }
  if (approval === 'never' && sandbox !== 'danger-full-access') notes.push('approval_policy never: the agent never asks; sandbox failures are not escalated');
  if (inherit === 'all' && sep.ignore_default_excludes === true) {
    ctx.add({
      id: 'codex.env-inherit-secrets',
      severity: 'medium',
      category: 'credential',
      title: 'Codex passes every environment variable, tokens included, to the commands it runs',
      evidence: `${ctx.display(file)}: shell_environment_policy inherit = "all", ignore_default_excludes = true`,
      asi: ['ASI03'],
      fix: 'Set [shell_environment_policy] inherit = "core" and list what is needed in include_only; broker tokens with airlock `secrets:` so the agent holds only placeholders.',
      file,
      line: lineOf(r.text, 'ignore_default_excludes'),
    });
  }
  const mcp = isRecord(doc.mcp_servers) ? auditMcpServers(ctx, doc.mcp_servers, file, r.text, 'mcp_servers') : [];
  ctx.agents.push(makeEntry({ agent: 'codex', name: 'Codex CLI', scope, files: [file], categories: cats, mcpServers: mcp, notes }));
}

function defaults(detail: string) {
  return {
    filesystem: cat('scoped', detail),
    shell: cat('scoped', detail),
    network: cat('none', detail),
    secrets: cat('scoped', detail),
  };
}
