/**
 * Claude Code: `.claude/settings.json` and `.claude/settings.local.json` in the repo,
 * `~/.claude/settings.json` and `~/.claude.json` (MCP servers, per-project allowed tools) in the
 * home. Permission rules look like `Bash`, `Bash(npm run test:*)`, `Read(~/.ssh/**)`, `Edit`,
 * `WebFetch(domain:example.com)`, `mcp__server__tool`; `permissions.defaultMode` may be
 * `default`, `acceptEdits`, `plan` or `bypassPermissions`. Hooks run shell commands on events.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { asStringArray, isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix, type Categories } from '../agent-entry.js';
import { auditMcpServers, type McpServerInfo } from '../mcp.js';
import { findTokens, isSecretName, kindFromName, looksLikeSecretValue } from '../secrets.js';

interface Rule {
  tool: string;
  spec?: string;
  text: string;
}

export function parseRule(text: string): Rule {
  const m = /^([A-Za-z0-9_*-]+)(?:\((.*)\))?$/s.exec(text.trim());
  if (!m) return { tool: text.trim(), text };
  return { tool: m[1]!, spec: m[2], text };
}

const UNBOUNDED_SPEC = /^(\*|:\*|\*\*|\/\*\*|\/\/\*\*|~\/\*\*|\.\*|)$/;
const CRED_PATH = /(\.ssh|\.aws|\.env|\.npmrc|\.netrc|\.git-credentials|\.docker|\.kube|\.config\/gh|credentials|secrets?)/i;

function unbounded(r: Rule): boolean {
  if (r.spec === undefined || UNBOUNDED_SPEC.test(r.spec.trim())) return true;
  // `Bash(*:*)`, `Bash( * )`: nothing but wildcards.
  return r.tool === 'Bash' && /^[\s*:]+$/.test(r.spec);
}

export function scanClaude(ctx: AuditContext): void {
  const repoFiles = [join(ctx.repo, '.claude', 'settings.json'), join(ctx.repo, '.claude', 'settings.local.json')];
  const homeFiles = [join(ctx.home, '.claude', 'settings.json'), join(ctx.home, '.claude', 'settings.local.json')];
  scanScope(ctx, 'repo', repoFiles);
  scanScope(ctx, 'home', homeFiles, join(ctx.home, '.claude.json'));
}

function scanScope(ctx: AuditContext, scope: 'repo' | 'home', files: string[], claudeJson?: string): void {
  const allow: { rule: Rule; file: string; line?: number }[] = [];
  const deny: Rule[] = [];
  const ask: Rule[] = [];
  let mode: string | undefined;
  let modeFile: string | undefined;
  let sandboxEnabled = false;
  let bypassDisabled = false;
  const found: string[] = [];
  const notes: string[] = [];
  const mcp: McpServerInfo[] = [];

  for (const file of files) {
    const parsed = ctx.readJson(file, 'Claude Code settings');
    if (!parsed) {
      if (ctx.read(file).ok) found.push(file); // malformed but present
      continue;
    }
    found.push(file);
    const s = parsed.value;
    if (!isRecord(s)) {
      ctx.malformed(file, 'Claude Code settings', 'the top level is not an object');
      continue;
    }
    const perms = isRecord(s.permissions) ? s.permissions : {};
    for (const t of asStringArray(perms.allow)) allow.push({ rule: parseRule(t), file, line: lineOf(parsed.text, JSON.stringify(t)) });
    deny.push(...asStringArray(perms.deny).map(parseRule));
    ask.push(...asStringArray(perms.ask).map(parseRule));
    if (typeof perms.defaultMode === 'string') {
      mode = perms.defaultMode;
      modeFile = file;
    }
    if (perms.disableBypassPermissionsMode === 'disable') bypassDisabled = true;
    for (const dir of asStringArray(perms.additionalDirectories)) {
      if (/^(\/|~|~\/|\$HOME|\/home|\/Users|\/root)\/?$/.test(dir.trim())) {
        ctx.add({
          id: 'claude.additional-directory-wide',
          severity: 'medium',
          category: 'agent-config',
          title: `Claude Code's working area is extended to ${dir} (every file there is in reach)`,
          evidence: `${ctx.display(file)}: permissions.additionalDirectories contains "${dir}"`,
          asi: ['ASI02', 'ASI03'],
          fix: 'List only the directories the task needs; under airlock, extra paths are read-only by default (filesystem.read).',
          file,
          line: lineOf(parsed.text, JSON.stringify(dir)),
        });
      } else notes.push(`additional directory: ${dir}`);
    }
    if (isRecord(s.sandbox) && s.sandbox.enabled === true) {
      sandboxEnabled = true;
      notes.push(`Claude Code's own sandbox is enabled (${ctx.display(file)})`);
    }
    if (s.enableAllProjectMcpServers === true) {
      ctx.add({
        id: 'claude.enable-all-project-mcp',
        severity: 'medium',
        category: 'mcp',
        title: 'Claude Code starts every MCP server a repository declares, without asking',
        evidence: `${ctx.display(file)}: enableAllProjectMcpServers = true`,
        asi: ['ASI04'],
        fix: 'Remove enableAllProjectMcpServers; approve servers one by one with enabledMcpjsonServers: ["name"]. A cloned repository can otherwise add a server that runs any command.',
        file,
        line: lineOf(parsed.text, 'enableAllProjectMcpServers'),
      });
    }
    hooks(ctx, s.hooks, file, parsed.text, scope);
    envBlock(ctx, s.env, file, parsed.text, 'Claude Code settings env');
    if (typeof s.apiKeyHelper === 'string') notes.push(`apiKeyHelper runs \`${ctx.redactor.quote(s.apiKeyHelper)}\` to obtain the API key`);
    if (isRecord(s.mcpServers)) mcp.push(...auditMcpServers(ctx, s.mcpServers, file, parsed.text, 'mcpServers'));
  }

  if (claudeJson) {
    const parsed = ctx.readJson(claudeJson, 'Claude Code user state (~/.claude.json)');
    if (parsed && isRecord(parsed.value)) {
      found.push(claudeJson);
      const v = parsed.value;
      if (typeof v.primaryApiKey === 'string' && looksLikeSecretValue(v.primaryApiKey)) {
        const red = ctx.redactor.redact(v.primaryApiKey);
        ctx.credential({ source: 'home-file', kind: 'anthropic-api-key', location: `${claudeJson}:primaryApiKey`, redacted: red, longLived: true, severity: 'high' });
        ctx.add({
          id: 'cred.home-file',
          severity: 'high',
          category: 'credential',
          title: `${ctx.display(claudeJson)} holds an Anthropic API key any agent running as this user can read`,
          evidence: `${ctx.display(claudeJson)}: primaryApiKey = ${red}`,
          asi: ['ASI03'],
          fix: 'airlock hides ~/.claude.json from the sandbox (built-in deny list); inside, broker the key:\nsecrets:\n  ANTHROPIC_API_KEY:\n    from: env:ANTHROPIC_API_KEY\n    inject: { host: api.anthropic.com, header: x-api-key, format: "{}" }\n    ttl: 30m',
          file: claudeJson,
        });
      }
      if (isRecord(v.mcpServers)) mcp.push(...auditMcpServers(ctx, v.mcpServers, claudeJson, parsed.text, 'mcpServers'));
      if (isRecord(v.projects)) {
        for (const [proj, pv] of Object.entries(v.projects)) {
          if (!isRecord(pv)) continue;
          if (isRecord(pv.mcpServers)) mcp.push(...auditMcpServers(ctx, pv.mcpServers, claudeJson, parsed.text, `projects["${proj}"].mcpServers`));
          for (const t of asStringArray(pv.allowedTools)) allow.push({ rule: parseRule(t), file: claudeJson, line: lineOf(parsed.text, JSON.stringify(t)) });
        }
      }
    }
  }

  if (!found.length) return;

  const cats = categories(allow.map((a) => a.rule), deny, ask, mode, sandboxEnabled);
  const bypass = mode === 'bypassPermissions';
  if (bypass) {
    ctx.add({
      id: 'claude.bypass-permissions',
      severity: sandboxEnabled ? 'high' : 'critical',
      category: 'agent-config',
      title: 'Claude Code runs every tool without asking (defaultMode: bypassPermissions)',
      evidence: `${ctx.display(modeFile!)}: permissions.defaultMode = "bypassPermissions"`,
      asi: ['ASI02', 'ASI05'],
      fix: `Remove "defaultMode": "bypassPermissions" and set "disableBypassPermissionsMode": "disable". ${airlockRunFix('claude')}`,
      file: modeFile,
    });
  } else if (mode === 'acceptEdits') {
    notes.push('defaultMode acceptEdits: file edits in the workspace are applied without asking');
  }
  if (bypassDisabled) notes.push('bypassPermissions mode is disabled');

  for (const a of allow) {
    const r = a.rule;
    if (r.tool === 'Bash' && unbounded(r)) {
      ctx.add({
        id: 'claude.allow-any-shell',
        severity: sandboxEnabled ? 'medium' : 'high',
        category: 'agent-config',
        title: `Claude Code may run any shell command without asking (${r.text})`,
        evidence: `${ctx.display(a.file)}: permissions.allow contains "${r.text}"`,
        asi: ['ASI02', 'ASI05'],
        fix: `Replace "${r.text}" with the commands the task needs, e.g. "Bash(npm run test:*)", "Bash(git status)"; shell access also reaches the network and every credential the user can read. ${airlockRunFix('claude', 'commands.deny: ["git push --force*"]')}`,
        file: a.file,
        line: a.line,
      });
    } else if (r.tool === 'Bash' && r.spec) {
      const cmd = r.spec.trim().split(/[\s:]/)[0];
      if (cmd && /^[A-Za-z0-9_.-]+$/.test(cmd)) ctx.hints.commands.add(cmd);
      if (/^(curl|wget|ssh|scp|nc|ncat|python3?|node|sh|bash|zsh|perl|ruby|eval|env|xargs|sudo|docker)\b/.test(r.spec.trim()) && /\*/.test(r.spec)) {
        ctx.add({
          id: 'claude.allow-interpreter',
          severity: 'medium',
          category: 'agent-config',
          title: `Claude Code auto-approves a command that can run anything or reach anywhere (${r.text})`,
          evidence: `${ctx.display(a.file)}: permissions.allow contains "${r.text}"`,
          asi: ['ASI02', 'ASI05'],
          fix: `Narrow "${r.text}" to exact invocations; an interpreter, network client or sudo with a wildcard is equivalent to "Bash(*)".`,
          file: a.file,
          line: a.line,
        });
      }
    } else if (r.tool === 'WebFetch' && unbounded(r)) {
      ctx.add({
        id: 'claude.allow-any-webfetch',
        severity: 'medium',
        category: 'agent-config',
        title: 'Claude Code may fetch any URL without asking',
        evidence: `${ctx.display(a.file)}: permissions.allow contains "${r.text}"`,
        asi: ['ASI01', 'ASI02'],
        fix: 'Allow specific domains only, e.g. "WebFetch(domain:docs.python.org)"; fetched pages can carry injected instructions and fetch URLs can carry data out. Under airlock: network.allow lists the hosts.',
        file: a.file,
        line: a.line,
      });
    } else if (r.tool === 'WebFetch' && r.spec?.startsWith('domain:')) {
      ctx.hints.hosts.add(r.spec.slice(7).trim());
    } else if ((r.tool === 'Read' || r.tool === 'Edit' || r.tool === 'Write') && r.spec && CRED_PATH.test(r.spec)) {
      ctx.add({
        id: 'claude.allow-credential-path',
        severity: 'high',
        category: 'agent-config',
        title: `Claude Code is allowed to ${r.tool.toLowerCase()} a credential location without asking (${r.text})`,
        evidence: `${ctx.display(a.file)}: permissions.allow contains "${r.text}"`,
        asi: ['ASI03'],
        fix: `Remove "${r.text}" from allow and add it to deny. Under airlock those paths are hidden: filesystem.deny: [~/.ssh, ~/.aws, "**/.env"].`,
        file: a.file,
        line: a.line,
      });
    }
  }

  if (!bypass && !deny.some((d) => d.tool === 'Read' && d.spec && CRED_PATH.test(d.spec)) && (cats.filesystem.access === 'unrestricted' || cats.shell.access !== 'ask')) {
    notes.push('no deny rule hides credential files (e.g. "Read(~/.ssh/**)", "Read(./.env)")');
  }

  ctx.agents.push(
    makeEntry({
      agent: 'claude-code',
      name: 'Claude Code',
      scope,
      files: found,
      categories: cats,
      everythingByDefault: bypass || (cats.shell.access === 'unrestricted' && cats.filesystem.access === 'unrestricted' && cats.network.access === 'unrestricted'),
      mcpServers: mcp,
      notes,
    }),
  );
}

function categories(allow: Rule[], deny: Rule[], ask: Rule[], mode: string | undefined, sandboxed: boolean): Categories {
  if (mode === 'bypassPermissions') {
    const lim = sandboxed ? 'scoped' : 'unrestricted';
    return {
      filesystem: cat('unrestricted', 'defaultMode bypassPermissions: every tool runs without asking'),
      shell: cat(lim, 'defaultMode bypassPermissions' + (sandboxed ? ' (inside Claude Code sandbox)' : '')),
      network: cat(lim, 'defaultMode bypassPermissions' + (sandboxed ? ' (sandbox network rules)' : '')),
      secrets: cat(lim, 'the process environment and every file the user can read'),
    };
  }
  const denied = (tool: string) => deny.some((d) => d.tool === tool && unbounded(d));
  const anyShell = allow.find((r) => r.tool === 'Bash' && unbounded(r));
  const someShell = allow.find((r) => r.tool === 'Bash' && !unbounded(r));
  const shell = denied('Bash')
    ? cat('none', 'Bash is denied')
    : anyShell
      ? cat(sandboxed ? 'scoped' : 'unrestricted', `allow "${anyShell.text}"${sandboxed ? ' inside Claude Code sandbox' : ''}`)
      : someShell
        ? cat('scoped', `allow ${allow.filter((r) => r.tool === 'Bash').map((r) => `"${r.text}"`).join(', ')}; others ask`)
        : cat('ask', 'each command asks (default)');

  const fsAny = allow.find((r) => ['Edit', 'Write', 'MultiEdit'].includes(r.tool) && unbounded(r)) ?? (mode === 'acceptEdits' ? { text: 'defaultMode acceptEdits' } : undefined);
  const readAny = allow.find((r) => r.tool === 'Read' && unbounded(r));
  const filesystem = fsAny && readAny
    ? cat('unrestricted', `allow "${readAny.text}" and "${fsAny.text}"`)
    : fsAny || readAny
      ? cat('scoped', `${fsAny ? `${fsAny.text}: edits without asking` : 'edits ask'}; reads in the workspace without asking`)
      : cat('scoped', 'reads in the workspace without asking; edits ask (default)');

  const netAny = allow.find((r) => r.tool === 'WebFetch' && unbounded(r));
  const netSome = allow.filter((r) => r.tool === 'WebFetch' || r.tool === 'WebSearch');
  let network = denied('WebFetch') && shell.access !== 'unrestricted' ? cat('none', 'WebFetch denied') : netAny ? cat('unrestricted', `allow "${netAny.text}"`) : netSome.length ? cat('scoped', `allow ${netSome.map((r) => `"${r.text}"`).join(', ')}`) : cat('ask', 'WebFetch asks (default)');
  if (shell.access === 'unrestricted') network = cat('unrestricted', `${shell.detail} (curl, git, ... reach any host)`);

  const credDenied = deny.some((d) => d.tool === 'Read' && d.spec && CRED_PATH.test(d.spec));
  let secrets = cat('ask', 'reading outside the workspace and shell commands ask');
  if (shell.access === 'unrestricted') secrets = cat('unrestricted', 'unrestricted shell reads the environment and credential files (Read deny rules do not apply to Bash)');
  else if (readAny && !credDenied) secrets = cat('unrestricted', `allow "${readAny.text}" with no deny rule for credential files`);
  else if (shell.access === 'scoped' || readAny) secrets = cat('scoped', `allowed commands inherit the environment${credDenied ? '; credential paths denied to Read' : ''}`);
  if (ask.length && secrets.access === 'unrestricted') secrets.detail += ` (ask rules: ${ask.length})`;
  return { filesystem, shell, network, secrets };
}

function hooks(ctx: AuditContext, h: unknown, file: string, text: string, scope: 'repo' | 'home'): void {
  if (!isRecord(h)) return;
  for (const [event, list] of Object.entries(h)) {
    if (!Array.isArray(list)) continue;
    for (const m of list) {
      if (!isRecord(m)) continue;
      for (const hk of Array.isArray(m.hooks) ? m.hooks : []) {
        if (!isRecord(hk) || typeof hk.command !== 'string') continue;
        const cmd = ctx.redactor.quote(hk.command);
        const remote = /curl|wget|https?:\/\//.test(hk.command);
        ctx.add({
          id: 'claude.hook-command',
          severity: scope === 'repo' ? (remote ? 'high' : 'medium') : 'low',
          category: 'agent-config',
          title: `Claude Code runs a ${scope === 'repo' ? 'repository-supplied ' : ''}hook command on ${event}, outside the permission system`,
          evidence: `${ctx.display(file)}: hooks.${event}: ${cmd.length > 160 ? `${cmd.slice(0, 160)}…` : cmd}`,
          asi: ['ASI05'],
          fix: scope === 'repo'
            ? 'Review the hook: it runs with your rights whenever Claude Code starts in this repository. Keep hooks in your user settings, or run the session under `airlock run` so hooks run inside the sandbox too.'
            : 'Make sure the hook script is yours and not writable by the agent (hooks run without any approval).',
          file,
          line: lineOf(text, hk.command.slice(0, 40)),
        });
      }
    }
  }
}

/** `env` blocks in agent settings: literal secrets are credential exposures. */
export function envBlock(ctx: AuditContext, env: unknown, file: string, text: string, what: string): void {
  if (!isRecord(env)) return;
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string' || !looksLikeSecretValue(v)) continue;
    const shaped = findTokens(v)[0];
    if (!shaped && !isSecretName(k)) continue;
    const red = ctx.redactor.redact(v);
    ctx.credential({ source: 'agent-config', kind: shaped?.shape.kind ?? kindFromName(k), location: `${file}:env.${k}`, redacted: red, longLived: true, severity: 'high' });
    ctx.add({
      id: 'agent.inline-credential',
      severity: 'high',
      category: 'credential',
      title: `${what} holds a credential in clear text (${k})`,
      evidence: `${ctx.display(file)}: env.${k} = ${red}`,
      asi: ['ASI03'],
      fix: `Remove ${k} from ${ctx.display(file)} and rotate it. Let airlock broker it so the agent only sees a placeholder:\nsecrets:\n  ${k}:\n    from: env:${k}\n    inject: { host: <the API host>, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`,
      file,
      line: lineOf(text, `"${k}"`),
    });
  }
}
