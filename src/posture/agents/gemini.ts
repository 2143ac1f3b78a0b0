/**
 * Gemini CLI: `.gemini/settings.json` (repo) and `~/.gemini/settings.json` (home), in both the
 * flat layout (`autoAccept`, `sandbox`, `coreTools`, `excludeTools`, `allowedTools`, `mcpServers`)
 * and the nested one (`tools.autoAccept`, `tools.sandbox`, `tools.core`, `tools.exclude`,
 * `tools.allowed`, `security.disableYoloMode`). YOLO is a CLI flag (`--yolo`, found by the script
 * scan) or an approval-mode setting. MCP servers with `trust: true` skip all confirmations.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { asStringArray, isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { auditMcpServers } from '../mcp.js';
import { scanInstructionFile } from './instructions.js';
import type { CategoryAccess } from '../types.js';

export function scanGemini(ctx: AuditContext): void {
  for (const scope of ['repo', 'home'] as const) {
    const file = join(scope === 'repo' ? ctx.repo : ctx.home, '.gemini', 'settings.json');
    const p = ctx.readJson(file, 'Gemini CLI settings');
    if (!p) continue;
    if (!isRecord(p.value)) {
      ctx.malformed(file, 'Gemini CLI settings', 'the top level is not an object');
      continue;
    }
    const v = p.value;
    const tools = isRecord(v.tools) ? v.tools : {};
    const notes: string[] = [];
    const sandbox = v.sandbox ?? tools.sandbox;
    const core = asStringArray(v.coreTools ?? tools.core);
    const exclude = asStringArray(v.excludeTools ?? tools.exclude);
    const allowed = asStringArray(v.allowedTools ?? tools.allowed);
    const approvalMode = [v.approvalMode, tools.approvalMode, isRecord(v.general) ? v.general.defaultApprovalMode : undefined].find((x) => typeof x === 'string') as string | undefined;
    const yolo = v.yolo === true || tools.yolo === true || approvalMode === 'yolo';
    const sandboxed = sandbox === true || (typeof sandbox === 'string' && sandbox !== '' && sandbox !== 'false');
    if (v.autoAccept === true || tools.autoAccept === true) notes.push('autoAccept: read-only tool calls run without asking');
    if (sandboxed) notes.push(`sandbox: ${JSON.stringify(sandbox)}`);

    const shellExcluded = exclude.some((t) => /^(run_shell_command|ShellTool)$/.test(t)) || (core.length > 0 && !core.some((t) => /^(run_shell_command|ShellTool)/.test(t)));
    const anyShellAllowed = allowed.some((t) => /^(run_shell_command|ShellTool)(\(\s*\*?\s*\))?$/.test(t));
    const someShellAllowed = allowed.filter((t) => /^(run_shell_command|ShellTool)\(.+\)$/.test(t));
    const coreShellScoped = core.filter((t) => /^(run_shell_command|ShellTool)\(.+\)$/.test(t));
    for (const t of [...someShellAllowed, ...coreShellScoped]) {
      const cmd = /\((\S+)/.exec(t)?.[1];
      if (cmd && /^[A-Za-z0-9_.-]+$/.test(cmd)) ctx.hints.commands.add(cmd);
    }

    let shell: CategoryAccess = shellExcluded ? cat('none', 'run_shell_command excluded') : yolo || anyShellAllowed ? cat(sandboxed ? 'scoped' : 'unrestricted', yolo ? 'YOLO approval mode' : 'run_shell_command allowed without confirmation') : someShellAllowed.length ? cat('scoped', `allowed without asking: ${someShellAllowed.join(', ')}`) : cat('ask', 'shell commands ask (default)');
    if (coreShellScoped.length && shell.access !== 'none') shell = cat(shell.access === 'unrestricted' ? 'scoped' : shell.access, `${shell.detail}; limited to ${coreShellScoped.join(', ')}`);
    const filesystem = yolo ? cat(sandboxed ? 'scoped' : 'unrestricted', 'YOLO: writes without asking') : cat('scoped', 'reads without asking; writes ask (default)');
    const network = exclude.includes('web_fetch') && shell.access !== 'unrestricted' ? cat('none', 'web_fetch excluded') : yolo || shell.access === 'unrestricted' ? cat(sandboxed ? 'scoped' : 'unrestricted', 'YOLO / unrestricted shell reaches any host') : cat('ask', 'web_fetch asks (default)');
    const secrets = shell.access === 'unrestricted' || (yolo && !sandboxed) ? cat('unrestricted', 'reads the environment and credential files without asking') : cat('ask', 'reading outside the workspace asks');

    if (yolo) {
      ctx.add({
        id: 'gemini.yolo',
        severity: sandboxed ? 'high' : 'critical',
        category: 'agent-config',
        title: 'Gemini CLI approves every tool call (YOLO mode)',
        evidence: `${ctx.display(file)}: approval mode yolo`,
        asi: ['ASI02', 'ASI05'],
        fix: `Remove the YOLO setting and set security.disableYoloMode: true. ${airlockRunFix('gemini')}`,
        file,
        line: lineOf(p.text, 'yolo'),
      });
    } else if (anyShellAllowed && !sandboxed) {
      ctx.add({
        id: 'gemini.allow-any-shell',
        severity: 'high',
        category: 'agent-config',
        title: 'Gemini CLI runs any shell command without confirmation',
        evidence: `${ctx.display(file)}: allowed tools include ${allowed.filter((t) => /^(run_shell_command|ShellTool)/.test(t)).join(', ')}`,
        asi: ['ASI02', 'ASI05'],
        fix: `Allow exact commands only, e.g. "run_shell_command(git status)", and enable the sandbox ("sandbox": true). ${airlockRunFix('gemini')}`,
        file,
        line: lineOf(p.text, 'run_shell_command'),
      });
    }
    if (sandbox === false && scope === 'repo') notes.push('the repository turns the sandbox off explicitly');

    const servers = v.mcpServers;
    const mcp = auditMcpServers(ctx, servers, file, p.text, 'mcpServers');
    if (isRecord(servers)) {
      for (const [name, def] of Object.entries(servers)) {
        if (isRecord(def) && def.trust === true) {
          ctx.add({
            id: 'gemini.mcp-trust',
            severity: 'medium',
            category: 'mcp',
            title: `Gemini CLI calls MCP server "${name}" without any confirmation (trust: true)`,
            evidence: `${ctx.display(file)}: mcpServers.${name}.trust = true`,
            asi: ['ASI02', 'ASI04'],
            fix: `Remove "trust": true so each tool call of "${name}" is confirmed, or limit it with includeTools.`,
            file,
            line: lineOf(p.text, '"trust"'),
          });
        }
      }
    }
    const files = [file];
    if (scope === 'repo') {
      const g = join(ctx.repo, 'GEMINI.md');
      if (scanInstructionFile(ctx, g, 'Gemini')) files.push(g);
    }
    ctx.agents.push(makeEntry({ agent: 'gemini-cli', name: 'Gemini CLI', scope, files, categories: { filesystem, shell, network, secrets }, mcpServers: mcp, notes, everythingByDefault: (yolo && !sandboxed) || undefined }));
  }
}
