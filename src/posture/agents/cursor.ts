/**
 * Cursor: rules (`.cursorrules`, `.cursor/rules/*.mdc`), MCP servers (`.cursor/mcp.json`,
 * `~/.cursor/mcp.json`) and the cursor-agent CLI permissions (`.cursor/cli.json`,
 * `~/.cursor/cli-config.json`: `permissions.allow/deny` with `Shell(cmd)`, `Read(glob)`,
 * `Write(glob)`). The editor's auto-run setting lives in Cursor's state database, not in a file,
 * so for the editor agent the audit states the defaults and says so.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { asStringArray, isRecord } from '../jsonc.js';
import { listDir, lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { auditMcpServers, type McpServerInfo } from '../mcp.js';
import { scanInstructionFile } from './instructions.js';
import { parseRule } from './claude.js';

export function scanCursor(ctx: AuditContext): void {
  for (const scope of ['repo', 'home'] as const) {
    const root = scope === 'repo' ? ctx.repo : ctx.home;
    const files: string[] = [];
    const notes: string[] = [];
    const mcp: McpServerInfo[] = [];
    if (scope === 'repo') {
      for (const f of [join(root, '.cursorrules'), ...listDir(join(root, '.cursor', 'rules')).filter((n) => /\.(mdc|md|txt)$/.test(n)).map((n) => join(root, '.cursor', 'rules', n))]) {
        if (scanInstructionFile(ctx, f, 'Cursor')) files.push(f);
      }
    }
    const mcpFile = join(root, '.cursor', 'mcp.json');
    const m = ctx.readJson(mcpFile, 'Cursor MCP config');
    if (m) {
      files.push(mcpFile);
      if (isRecord(m.value)) mcp.push(...auditMcpServers(ctx, m.value.mcpServers, mcpFile, m.text, 'mcpServers'));
    }
    const cliFile = join(root, '.cursor', scope === 'repo' ? 'cli.json' : 'cli-config.json');
    const c = ctx.readJson(cliFile, 'cursor-agent CLI config');
    let shell = cat('ask', 'terminal commands ask unless auto-run is enabled in the editor (stored outside the repo)');
    let filesystem = cat('scoped', 'edits files in the workspace');
    if (c && isRecord(c.value)) {
      files.push(cliFile);
      const perms = isRecord(c.value.permissions) ? c.value.permissions : {};
      const allow = asStringArray(perms.allow).map(parseRule);
      const anyShell = allow.find((r) => r.tool === 'Shell' && (r.spec === undefined || /^\*+$/.test(r.spec.trim())));
      if (anyShell) {
        shell = cat('unrestricted', `permissions.allow "${anyShell.text}"`);
        ctx.add({
          id: 'cursor.allow-any-shell',
          severity: 'high',
          category: 'agent-config',
          title: `cursor-agent may run any shell command without asking (${anyShell.text})`,
          evidence: `${ctx.display(cliFile)}: permissions.allow contains "${anyShell.text}"`,
          asi: ['ASI02', 'ASI05'],
          fix: `List exact commands (e.g. "Shell(git status)", "Shell(npm test)"). ${airlockRunFix('cursor-agent')}`,
          file: cliFile,
          line: lineOf(c.text, anyShell.text),
        });
      } else if (allow.some((r) => r.tool === 'Shell')) shell = cat('scoped', `permissions.allow ${allow.filter((r) => r.tool === 'Shell').map((r) => r.text).join(', ')}`);
      for (const r of allow) if (r.tool === 'Shell' && r.spec) { const cmd = r.spec.trim().split(/\s/)[0]; if (cmd && /^[A-Za-z0-9_.-]+$/.test(cmd) && cmd !== '*') ctx.hints.commands.add(cmd); }
      if (allow.some((r) => r.tool === 'Write' && (!r.spec || /^\*\*?$|^\/\*\*$|^~\/\*\*$/.test(r.spec.trim())))) filesystem = cat('unrestricted', 'permissions.allow Write(**)');
    }
    if (!files.length) continue;
    if (scope === 'home' && !m && !c) continue;
    const net = mcp.length ? cat('scoped', `through ${mcp.length} MCP server(s)`) : cat('ask', 'web tools ask by default');
    const secrets = shell.access === 'unrestricted' ? cat('unrestricted', 'unrestricted shell reads the environment and credential files') : cat('ask', 'terminal commands that could read credentials ask');
    if (shell.access === 'unrestricted') Object.assign(net, cat('unrestricted', 'unrestricted shell reaches any host'));
    ctx.agents.push(makeEntry({ agent: 'cursor', name: 'Cursor', scope, files, categories: { filesystem, shell, network: net, secrets }, mcpServers: mcp, notes }));
  }
}
