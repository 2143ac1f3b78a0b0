/**
 * ide-agent-config: files that make an editor or an AI agent run commands or approve tools by
 * itself when a developer opens the repository — VS Code tasks that run on folder open, settings
 * that auto-approve agent tools or point executables into the repo, MCP server definitions,
 * Claude Code permissions and hooks, and the instruction/rules files agents obey (Cursor rules,
 * CLAUDE.md, AGENTS.md, Copilot instructions). A hostile rules file (the 2025 "rules file
 * backdoor") or MCP config is code execution on the next `git pull`.
 */
import { isAgentInstructionPath, type FileView } from '../context.js';
import { mk, type Report } from './common.js';

const MCP_FILE = /(^|\/)(\.mcp\.json|mcp\.json|mcp_config\.json|mcp_settings\.json|cline_mcp_settings\.json|claude_desktop_config\.json|\.cursor\/mcp\.json|\.vscode\/mcp\.json|\.roo\/mcp\.json|\.kilocode\/mcp\.json|\.amazonq\/mcp\.json|\.gemini\/settings\.json|\.kiro\/settings\/mcp\.json|opencode\.jsonc?|\.continue\/config\.(json|ya?ml)|\.continue\/mcpServers\/[^/]+|\.zed\/settings\.json|\.codex\/config\.toml|\.windsurf\/mcp\.json|\.codeium\/windsurf\/mcp_config\.json)$/;
const SETTINGS_EXEC_KEYS = /"((?:[\w.-]+\.)?(?:executablePath|path|pythonPath|defaultInterpreterPath|interpreterPath|serverPath|binPath|nodePath|runtime|runtimeExecutable|command|shellArgs\.\w+|shell\.\w+|automationProfile\.\w+|env\.\w+))"\s*:\s*(.+)$/;
const AUTO_APPROVE = /"(chat\.tools\.(global\.)?autoApprove|chat\.tools\.terminal\.autoApprove|chat\.tools\.edits\.autoApprove|github\.copilot\.chat\.agent\.autoApprove|chat\.agent\.autoApprove|cline\.autoApprove\w*|roo-cline\.\w*autoApprove\w*|amazonQ\.\w*autoApprove\w*|chat\.mcp\.autostart|chat\.mcp\.autoStart|task\.allowAutomaticTasks|security\.workspace\.trust\.enabled|security\.workspace\.trust\.untrustedFiles|cursor\.\w*yolo\w*|chat\.tools\.autoRun)"\s*:\s*(.+)$/i;

export function agentRules(v: FileView, report: Report): void {
  const p = v.lower;
  if (v.isVendored) return;

  if (/(^|\/)\.vscode\/tasks\.json$/.test(p)) {
    const runOn = v.added.find((l) => /"runOn"\s*:\s*"folderOpen"/.test(l.text));
    if (runOn) {
      report(mk(v, 'vscode-folder-open-task', 'ide-agent-config', 'critical', runOn, '', 'a VS Code task with runOn: folderOpen runs a command as soon as someone opens the repository (with automatic tasks allowed), before they read any code', 'remove runOn: folderOpen; let developers run tasks explicitly'));
    } else if (v.added.some((l) => /"(command|args)"\s*:/.test(l.text))) {
      const at = v.added.find((l) => /"(command|args)"\s*:/.test(l.text))!;
      report(mk(v, 'vscode-task', 'ide-agent-config', 'medium', at, '', 'a VS Code task command changed; tasks run with the developer\'s credentials', 'review what the task runs'));
    }
  }

  if (/(^|\/)\.vscode\/settings\.json$|(^|\/)\.vscode\/[^/]+\.code-workspace$|\.code-workspace$/.test(p)) {
    for (const l of v.added) {
      const a = AUTO_APPROVE.exec(l.text);
      if (a) {
        const val = a[3]!.trim();
        const trustOff = /security\.workspace\.trust\.enabled/i.test(a[1]!) && /false/.test(val);
        const on = /true|"on"|\{|\[|"always"|"newWindow"/.test(val) && !/security\.workspace\.trust\.enabled/i.test(a[1]!);
        if (on || trustOff) {
          report(mk(v, 'auto-approve', 'ide-agent-config', 'critical', l, '', `${a[1]} makes the editor or its AI agent run tools, terminal commands or tasks without asking — a prompt injection anywhere in the repo then becomes command execution`, 'remove the setting from the repository; auto-approval is a per-user choice, never a workspace default'));
        }
        continue;
      }
      const e = SETTINGS_EXEC_KEYS.exec(l.text);
      if (e && /["'](\.{0,2}\/|\$\{workspaceFolder\}|[A-Za-z]:\\|\w+\/)/.test(e[2]!) && !/^"(files|search|editor|typescript\.tsdk|python\.analysis|eslint\.workingDirectories|jest\.|vitest\.|json\.schemas|yaml\.schemas|markdownlint|cSpell|prettier\.configPath|eslint\.options)/.test(`"${e[1]}`) && !/(\.?venv|\benv|node_modules|\.yarn|\.pnpm|vendor|\.tox|\.pixi|\.direnv|\.bin|\.cargo|target|build|dist|\.gradle|gradlew|mvnw)[\\/]|^\s*"(python3?|node|bash|zsh|sh)"/.test(e[2]!)) {
        report(mk(v, 'settings-executable', 'ide-agent-config', 'high', l, '', `the workspace setting ${e[1]} points the editor at an executable or environment the repository controls; an extension runs it when the folder opens`, 'do not set executable paths or terminal env in shared workspace settings'));
      }
    }
  }

  if (MCP_FILE.test(p)) {
    const addedText = v.added.map((l) => l.text).join('\n');
    const servers = v.added.filter((l) => /"(command|url|serverUrl|httpUrl)"\s*:/.test(l.text) || /^\s*(command|url)\s*[:=]/.test(l.text));
    for (const l of servers) {
      const risky = /curl|wget|bash|\bsh\b|powershell|cmd(\.exe)?\b|python\s+-c|node\s+-e|base64|https?:\/\/(?!localhost|127\.0\.0\.1)/i.test(l.text) || /npx|uvx|bunx|pnpm dlx|docker/.test(l.text) && /"-y"|--yes|@latest|git\+|https?:/.test(addedText);
      report(mk(v, 'mcp-server', 'ide-agent-config', risky ? 'critical' : 'high', l, '', `an MCP server definition ${risky ? 'downloads or runs a shell command' : 'adds a program'} that AI agents in this repository start automatically with the developer's privileges and credentials`, 'review the server binary and its source; pin exact versions; keep MCP configs out of the shared repository or require explicit approval'));
    }
    const envAdded = v.added.find((l) => /"env"\s*:/.test(l.text));
    if (!servers.length && envAdded) report(mk(v, 'mcp-env', 'ide-agent-config', 'medium', envAdded, '', 'MCP server environment changed', 'review the variables passed to the server'));
  }

  if (/(^|\/)\.claude\/settings(\.local)?\.json$|(^|\/)\.claude\.json$/.test(p)) {
    for (const l of v.added) {
      if (/bypassPermissions|dangerously-?skip-?permissions|"Bash(\(\*\)|\(:\*\))?"|"Bash\(\s*\*\s*\)"|"\*"|"Write\(\*\*?\)"|"WebFetch"|"mcp__\*"|enableAllProjectMcpServers"\s*:\s*true/.test(l.text)) {
        report(mk(v, 'claude-permissions', 'ide-agent-config', 'critical', l, '', 'Claude Code project settings grant unrestricted tool permissions (any shell command, or bypassing approval): every agent session in this repo runs commands unasked', 'grant narrow rules such as "Bash(npm test)"; never commit bypassPermissions or Bash(*)'));
      } else if (/"(command|hooks|PreToolUse|PostToolUse|SessionStart|Stop|UserPromptSubmit|Notification)"\s*:/.test(l.text)) {
        report(mk(v, 'claude-hooks', 'ide-agent-config', 'high', l, '', 'a Claude Code hook runs a shell command automatically on agent events for everyone who uses the repository', 'keep hooks in user settings, or review the command and keep it minimal'));
      } else if (/"allow"\s*:|"Bash\(/.test(l.text)) {
        report(mk(v, 'claude-allow', 'ide-agent-config', 'medium', l, '', 'Claude Code permission rules changed', 'check that every allowed command is narrow'));
      }
    }
  }

  if (/(^|\/)\.gemini\/settings\.json$/.test(p)) {
    const l = v.added.find((x) => /"(autoAccept|yolo|trust)"\s*:\s*true|"coreTools"|"excludeTools"/.test(x.text));
    if (l) report(mk(v, 'gemini-settings', 'ide-agent-config', 'high', l, '', 'Gemini CLI settings auto-accept or widen tools', 'do not auto-accept tools in shared settings'));
  }

  if (/(^|\/)\.aider[^/]*$/.test(p)) {
    const l = v.added.find((x) => /(yes-always|yes|auto-commits|auto-test|test-cmd|lint-cmd|run)\s*:/.test(x.text));
    if (l) report(mk(v, 'aider-config', 'ide-agent-config', /yes-always\s*:\s*true|yes\s*:\s*true/.test(l.text) ? 'high' : 'medium', l, '', 'aider configuration that confirms or runs commands automatically', 'keep auto-run options out of the shared config'));
  }

  if (/(^|\/)\.devcontainer(\/[^/]+)?\/devcontainer\.json$|(^|\/)\.devcontainer\.json$/.test(p)) {
    for (const l of v.added) {
      const m = /"(initializeCommand|onCreateCommand|updateContentCommand|postCreateCommand|postStartCommand|postAttachCommand)"\s*:/.exec(l.text);
      if (!m) continue;
      const host = m[1] === 'initializeCommand';
      const risky = /curl|wget|\|\s*(ba)?sh|base64|https?:\/\//.test(l.text);
      report(mk(v, 'devcontainer-command', 'ide-agent-config', host || risky ? 'high' : 'medium', l, '', `the dev container's ${m[1]} runs automatically when someone opens the repository in a container${host ? ' — on the host machine, outside the container' : ''}`, 'keep lifecycle commands to dependency installs; review them as code'));
    }
  }

  if (isAgentInstructionPath(p) && v.added.some((l) => l.text.trim() !== '')) {
    const at = v.added.find((l) => l.text.trim() !== '')!;
    report(mk(v, 'agent-instructions', 'ide-agent-config', 'medium', at, '', 'the instructions AI agents read and obey in this repository changed; agents treat them as trusted', 'read the whole change as if it were code (look for hidden characters and commands)'));
  }
}
