/**
 * OpenCode: `opencode.json` / `opencode.jsonc` in the repository and
 * `~/.config/opencode/opencode.json`. `permission.edit`, `permission.bash` (a value or a map of
 * command patterns → `allow|ask|deny`) and `permission.webfetch`; OpenCode allows every operation
 * unless told otherwise. `mcp.<name>` servers are `{type: local, command: [argv], environment}` or
 * `{type: remote, url, headers}`.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { auditMcpServers } from '../mcp.js';
import type { Access, CategoryAccess } from '../types.js';

function level(v: unknown): Access {
  return v === 'deny' ? 'none' : v === 'ask' ? 'ask' : 'unrestricted';
}

export function scanOpencode(ctx: AuditContext): void {
  const files: { file: string; scope: 'repo' | 'home' }[] = [
    { file: join(ctx.repo, 'opencode.json'), scope: 'repo' },
    { file: join(ctx.repo, 'opencode.jsonc'), scope: 'repo' },
    { file: join(ctx.home, '.config', 'opencode', 'opencode.json'), scope: 'home' },
    { file: join(ctx.home, '.config', 'opencode', 'opencode.jsonc'), scope: 'home' },
  ];
  for (const { file, scope } of files) {
    const p = ctx.readJson(file, 'OpenCode config');
    if (!p || !isRecord(p.value)) continue;
    const perm = isRecord(p.value.permission) ? p.value.permission : {};
    const edit = level(perm.edit);
    let shell: CategoryAccess;
    if (isRecord(perm.bash)) {
      const entries = Object.entries(perm.bash);
      const star = entries.find(([k]) => k.trim() === '*');
      const allowed = entries.filter(([, v]) => v === 'allow').map(([k]) => k);
      shell = star && star[1] === 'allow' ? cat('unrestricted', 'permission.bash "*": allow') : allowed.length ? cat('scoped', `permission.bash allows ${allowed.slice(0, 6).join(', ')}`) : cat(star ? level(star[1]) : 'unrestricted', star ? `permission.bash "*": ${String(star[1])}` : 'commands not listed are allowed (default)');
      for (const k of allowed) {
        const c = k.trim().split(/\s/)[0];
        if (c && /^[A-Za-z0-9_.-]+$/.test(c)) ctx.hints.commands.add(c);
      }
    } else shell = cat(level(perm.bash), perm.bash === undefined ? 'permission.bash not set: allow (default)' : `permission.bash: ${String(perm.bash)}`);
    const web = level(perm.webfetch);
    const network = shell.access === 'unrestricted' ? cat('unrestricted', 'shell commands reach any host') : cat(web, perm.webfetch === undefined ? 'permission.webfetch not set: allow (default)' : `permission.webfetch: ${String(perm.webfetch)}`);
    const secrets = shell.access === 'unrestricted' ? cat('unrestricted', 'shell commands read the environment and credential files') : cat(shell.access === 'none' ? 'ask' : 'scoped', 'allowed commands inherit the environment');
    if (shell.access === 'unrestricted') {
      ctx.add({
        id: 'opencode.allow-any-shell',
        severity: edit === 'unrestricted' ? 'critical' : 'high',
        category: 'agent-config',
        title: `OpenCode runs any shell command without asking${perm.bash === undefined ? ' (its default)' : ''}`,
        evidence: `${ctx.display(file)}: ${shell.detail}`,
        asi: ['ASI02', 'ASI05'],
        fix: `Set "permission": { "bash": { "*": "ask", "git status": "allow", "npm test": "allow" }, "edit": "ask", "webfetch": "ask" }. ${airlockRunFix('opencode')}`,
        file,
        line: lineOf(p.text, '"bash"'),
      });
    }
    const mcp = isRecord(p.value.mcp)
      ? auditMcpServers(
          ctx,
          Object.fromEntries(
            Object.entries(p.value.mcp).map(([name, d]) => {
              if (!isRecord(d)) return [name, d];
              const argv = Array.isArray(d.command) ? d.command.filter((x): x is string => typeof x === 'string') : [];
              return [name, { ...d, command: argv[0] ?? (typeof d.command === 'string' ? d.command : undefined), args: argv.slice(1), env: d.environment ?? d.env }];
            }),
          ),
          file,
          p.text,
          'mcp',
        )
      : [];
    ctx.agents.push(makeEntry({ agent: 'opencode', name: 'OpenCode', scope, files: [file], categories: { filesystem: cat(edit, perm.edit === undefined ? 'permission.edit not set: allow (default)' : `permission.edit: ${String(perm.edit)}`), shell, network, secrets }, mcpServers: mcp, notes: [] }));
  }
}
