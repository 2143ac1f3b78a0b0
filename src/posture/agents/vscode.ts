/**
 * VS Code / GitHub Copilot agent mode: `.vscode/settings.json` (JSONC) in the repo and the user
 * settings in the home (`~/.config/Code/User/settings.json`, Insiders and VSCodium too);
 * `.vscode/mcp.json` (`servers`); `.vscode/tasks.json` tasks with `runOptions.runOn: folderOpen`.
 * Settings audited: `chat.tools.autoApprove` / `chat.tools.global.autoApprove` (approve every
 * tool), terminal auto-approve maps (`chat.tools.terminal.autoApprove`,
 * `chat.agent.terminal.autoApprove`, `github.copilot.chat.agent.terminal.allowList`),
 * `chat.tools.edits.autoApprove`, `chat.tools.urls.autoApprove`,
 * `github.copilot.chat.agent.runTasks`, `chat.mcp.autostart`, `chat.mcp.discovery.enabled`,
 * `task.allowAutomaticTasks`, `security.workspace.trust.enabled`.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { auditMcpServers, type McpServerInfo } from '../mcp.js';
import { scanInstructionFile } from './instructions.js';
import type { CategoryAccess } from '../types.js';

const USER_DIRS = ['.config/Code/User', '.config/Code - Insiders/User', '.config/VSCodium/User', 'Library/Application Support/Code/User'];
const TERMINAL_KEYS = ['chat.tools.terminal.autoApprove', 'chat.agent.terminal.autoApprove', 'github.copilot.chat.agent.terminal.allowList'];
const BROAD_PATTERN = /^\/(\^?\.[*+]\$?|\^?\(\?:\.\*\)\$?|\.\*\?)\/[a-z]*$|^\*$/;

export function scanVscode(ctx: AuditContext): void {
  scanScope(ctx, 'repo', join(ctx.repo, '.vscode'));
  for (const d of USER_DIRS) scanScope(ctx, 'home', join(ctx.home, d));
}

function scanScope(ctx: AuditContext, scope: 'repo' | 'home', dir: string): void {
  const files: string[] = [];
  const notes: string[] = [];
  const mcp: McpServerInfo[] = [];
  let fs: CategoryAccess = cat('scoped', 'edits in the workspace; sensitive files ask (default)');
  let shell: CategoryAccess = cat('ask', 'terminal commands ask (default)');
  let network: CategoryAccess = cat('ask', 'fetching URLs asks (default)');
  let globalAuto = false;
  let autoTasks = false;

  const settingsFile = join(dir, 'settings.json');
  const s = ctx.readJson(settingsFile, 'VS Code settings');
  if (s && isRecord(s.value)) {
    files.push(settingsFile);
    const v = s.value;
    const line = (k: string) => lineOf(s.text, `"${k}"`);
    for (const key of ['chat.tools.autoApprove', 'chat.tools.global.autoApprove']) {
      if (v[key] === true) {
        globalAuto = true;
        ctx.add({
          id: 'vscode.auto-approve-all',
          severity: 'critical',
          category: 'agent-config',
          title: 'Copilot agent mode approves every tool call without asking',
          evidence: `${ctx.display(settingsFile)}: "${key}": true`,
          asi: ['ASI02', 'ASI05'],
          fix: `Remove "${key}"${scope === 'repo' ? ' from the repository settings (a repository must never turn approvals off for whoever opens it)' : ''}; approve terminal commands one by one or with a narrow chat.tools.terminal.autoApprove map. ${airlockRunFix('code --wait .')}`,
          file: settingsFile,
          line: line(key),
        });
      }
    }
    for (const key of TERMINAL_KEYS) {
      const map = v[key];
      if (!isRecord(map)) continue;
      const approved = Object.entries(map).filter(([, on]) => on === true || (isRecord(on) && on.approve === true)).map(([k]) => k);
      const broad = approved.filter((k) => BROAD_PATTERN.test(k.trim()));
      if (broad.length) {
        shell = cat('unrestricted', `${key}: ${broad.map((b) => `"${b}"`).join(', ')} approves every command`);
        ctx.add({
          id: 'vscode.terminal-auto-approve-all',
          severity: 'high',
          category: 'agent-config',
          title: 'Copilot agent mode runs any terminal command without asking',
          evidence: `${ctx.display(settingsFile)}: "${key}" approves ${broad.map((b) => `"${b}"`).join(', ')}`,
          asi: ['ASI02', 'ASI05'],
          fix: `Replace the catch-all pattern with the exact commands needed, e.g. { "npm test": true, "git status": true }. ${airlockRunFix('code .')}`,
          file: settingsFile,
          line: line(key),
        });
      } else if (approved.length) {
        shell = cat('scoped', `${key}: ${approved.slice(0, 8).join(', ')}`);
        for (const k of approved) {
          const cmd = k.replace(/^\//, '').split(/[\s/]/)[0];
          if (cmd && /^[A-Za-z0-9_.-]+$/.test(cmd)) ctx.hints.commands.add(cmd);
        }
      }
    }
    const edits = v['chat.tools.edits.autoApprove'];
    if (edits === true || (isRecord(edits) && Object.entries(edits).some(([k, on]) => on === true && /^\*\*(\/\*)?$/.test(k)))) fs = cat('unrestricted', 'chat.tools.edits.autoApprove approves edits to every file');
    const urls = v['chat.tools.urls.autoApprove'];
    if (urls === true || (isRecord(urls) && Object.entries(urls).some(([k, on]) => on === true && /^(https?:\/\/)?\*/.test(k)))) network = cat('unrestricted', 'chat.tools.urls.autoApprove approves every URL');
    if (v['github.copilot.chat.agent.runTasks'] === true) notes.push('the agent may run workspace tasks (github.copilot.chat.agent.runTasks)');
    if (v['chat.mcp.discovery.enabled'] === true || isRecord(v['chat.mcp.discovery.enabled'])) notes.push('MCP servers configured for other apps are discovered and offered (chat.mcp.discovery.enabled)');
    if (v['chat.mcp.autostart'] !== undefined && v['chat.mcp.autostart'] !== 'never' && v['chat.mcp.autostart'] !== false) notes.push(`MCP servers start automatically (chat.mcp.autostart = ${JSON.stringify(v['chat.mcp.autostart'])})`);
    if (v['task.allowAutomaticTasks'] === 'on' || v['task.allowAutomaticTasks'] === true) autoTasks = true;
    if (v['security.workspace.trust.enabled'] === false) {
      ctx.add({
        id: 'vscode.workspace-trust-off',
        severity: 'medium',
        category: 'agent-config',
        title: 'VS Code workspace trust is disabled: every folder opened is trusted',
        evidence: `${ctx.display(settingsFile)}: "security.workspace.trust.enabled": false`,
        asi: ['ASI05'],
        fix: 'Re-enable workspace trust so tasks, MCP servers and agent settings of an untrusted clone do not run or apply automatically.',
        file: settingsFile,
        line: line('security.workspace.trust.enabled'),
      });
    }
    if (isRecord(v.mcp) && isRecord(v.mcp.servers)) mcp.push(...auditMcpServers(ctx, v.mcp.servers, settingsFile, s.text, 'mcp.servers'));
  } else if (s === undefined && ctx.read(settingsFile).ok) files.push(settingsFile);

  const mcpFile = join(dir, 'mcp.json');
  const m = ctx.readJson(mcpFile, 'VS Code MCP config');
  if (m && isRecord(m.value)) {
    files.push(mcpFile);
    mcp.push(...auditMcpServers(ctx, m.value.servers ?? m.value.mcpServers, mcpFile, m.text, 'servers'));
  }

  if (scope === 'repo') {
    const tasksFile = join(dir, 'tasks.json');
    const t = ctx.readJson(tasksFile, 'VS Code tasks');
    if (t && isRecord(t.value) && Array.isArray(t.value.tasks)) {
      files.push(tasksFile);
      for (const task of t.value.tasks) {
        if (!isRecord(task) || !isRecord(task.runOptions) || task.runOptions.runOn !== 'folderOpen') continue;
        const label = typeof task.label === 'string' ? task.label : '(unnamed)';
        const cmd = [task.command, ...(Array.isArray(task.args) ? task.args : [])].filter((x) => typeof x === 'string').join(' ');
        ctx.add({
          id: 'vscode.task-on-folder-open',
          severity: autoTasks ? 'high' : 'medium',
          category: 'agent-config',
          title: `VS Code task "${label}" runs automatically when the folder is opened${autoTasks ? ' (automatic tasks allowed without prompt)' : ''}`,
          evidence: `${ctx.display(tasksFile)}: runOptions.runOn = "folderOpen": ${ctx.redactor.quote(cmd).slice(0, 160)}`,
          asi: ['ASI05'],
          fix: 'Remove runOn: "folderOpen" (or keep task.allowAutomaticTasks "off"); an agent that can write .vscode/tasks.json otherwise gets code execution the next time anyone opens the folder. Under airlock, .vscode/ changes show up in `airlock diff` before they reach the tree.',
          file: tasksFile,
          line: lineOf(t.text, 'folderOpen'),
        });
      }
    }
    const instr = join(ctx.repo, '.github', 'copilot-instructions.md');
    if (scanInstructionFile(ctx, instr, 'Copilot')) files.push(instr);
  }

  if (!files.length) return;
  if (globalAuto) {
    fs = cat('unrestricted', 'chat.tools.autoApprove: every tool approved');
    shell = cat('unrestricted', 'chat.tools.autoApprove: every tool approved');
    network = cat('unrestricted', 'chat.tools.autoApprove: every tool approved');
  }
  if (shell.access === 'unrestricted' && network.access !== 'unrestricted') network = cat('unrestricted', 'unrestricted terminal reaches any host');
  const secrets = shell.access === 'unrestricted' ? cat('unrestricted', 'unrestricted terminal reads the environment and credential files') : shell.access === 'scoped' ? cat('scoped', 'auto-approved commands inherit the editor environment') : cat('ask', 'commands that could read credentials ask');
  if (mcp.length && network.access === 'ask') network = cat('scoped', `through ${mcp.length} MCP server(s)`);
  ctx.agents.push(makeEntry({ agent: 'vscode-copilot', name: 'VS Code / GitHub Copilot', scope, files, categories: { filesystem: fs, shell, network, secrets }, mcpServers: mcp, notes, everythingByDefault: globalAuto || undefined }));
}
