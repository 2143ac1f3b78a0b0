/**
 * Stand-alone MCP server configurations: a repository's `.mcp.json` / `mcp.json` (Claude Code
 * project scope and others), Claude Desktop's `claude_desktop_config.json`, Amazon Q's and
 * Windsurf's MCP files. Each
 * file becomes an `mcp` agent entry whose tool categories follow from the servers it launches.
 */
import { join } from 'node:path';
import type { AuditContext } from '../context.js';
import { asStringArray, isRecord } from '../jsonc.js';
import { cat, makeEntry, wider } from '../agent-entry.js';
import { auditMcpServers } from '../mcp.js';
import type { Access, CategoryAccess, ToolCategory } from '../types.js';

const DESKTOP = ['.config/Claude/claude_desktop_config.json', 'Library/Application Support/Claude/claude_desktop_config.json', 'AppData/Roaming/Claude/claude_desktop_config.json'];

export function scanMcpFiles(ctx: AuditContext): void {
  const files: { file: string; scope: 'repo' | 'home'; name: string }[] = [
    { file: join(ctx.repo, '.mcp.json'), scope: 'repo', name: 'MCP servers (.mcp.json)' },
    { file: join(ctx.repo, 'mcp.json'), scope: 'repo', name: 'MCP servers (mcp.json)' },
    { file: join(ctx.repo, 'claude_desktop_config.json'), scope: 'repo', name: 'MCP servers (claude_desktop_config.json)' },
    ...DESKTOP.map((d) => ({ file: join(ctx.home, d), scope: 'home' as const, name: 'Claude Desktop MCP servers' })),
    { file: join(ctx.repo, '.amazonq', 'mcp.json'), scope: 'repo', name: 'Amazon Q MCP servers' },
    { file: join(ctx.home, '.aws', 'amazonq', 'mcp.json'), scope: 'home', name: 'Amazon Q MCP servers' },
    { file: join(ctx.home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'home', name: 'Windsurf MCP servers' },
  ];
  for (const { file, scope, name } of files) {
    const p = ctx.readJson(file, name);
    if (!p) continue;
    if (!isRecord(p.value)) {
      ctx.malformed(file, name, 'the top level is not an object');
      continue;
    }
    const servers = p.value.mcpServers ?? p.value.servers;
    const list = auditMcpServers(ctx, servers, file, p.text, p.value.mcpServers ? 'mcpServers' : 'servers');
    const cats = categoriesFor(isRecord(servers) ? servers : {});
    ctx.agents.push(makeEntry({ agent: 'mcp', name, scope, files: [file], categories: cats, mcpServers: list, notes: list.length ? [`${list.length} server(s); each runs with the rights of the user who starts the agent`] : ['no servers declared'] }));
  }
}

/** What a set of MCP servers gives the agent, judged from the packages and commands they run. */
export function categoriesFor(servers: Record<string, unknown>): Record<ToolCategory, CategoryAccess> {
  const acc: Record<ToolCategory, { a: Access; why: string[] }> = {
    filesystem: { a: 'none', why: [] },
    shell: { a: 'none', why: [] },
    network: { a: 'none', why: [] },
    secrets: { a: 'none', why: [] },
  };
  const bump = (c: ToolCategory, a: Access, why: string) => {
    acc[c].a = wider(acc[c].a, a);
    acc[c].why.push(why);
  };
  for (const [name, def] of Object.entries(servers)) {
    if (!isRecord(def)) continue;
    const args = asStringArray(def.args);
    const line = [typeof def.command === 'string' ? def.command : '', ...args].join(' ').toLowerCase();
    if (typeof def.url === 'string' || typeof def.httpUrl === 'string' || typeof def.serverUrl === 'string') bump('network', 'scoped', `${name}: remote server`);
    if (/server-filesystem|filesystem|file-system/.test(line)) {
      const paths = args.filter((a) => a.startsWith('/') || a.startsWith('~') || a === '.');
      bump('filesystem', paths.some((p) => p === '/' || p === '~' || p === '/home' || p === '/Users') ? 'unrestricted' : 'scoped', `${name}: ${paths.join(', ') || 'file server'}`);
    }
    if (/desktop-commander|server-shell|mcp-shell|terminal|shell-server|\bexec\b|run-command|code-runner/.test(line)) bump('shell', 'unrestricted', `${name}: runs commands`);
    if (/^(docker|podman)\b/.test(line)) {
      bump('shell', 'scoped', `${name}: container`);
      if (/-v\s|--volume|--mount/.test(line)) bump('filesystem', /-v\s+(\/|~|\$home)(:|\s)/.test(line) ? 'unrestricted' : 'scoped', `${name}: host mounts`);
    }
    if (/fetch|puppeteer|playwright|browser|brave|search|github|gitlab|slack|http/.test(line)) bump('network', 'scoped', `${name}: reaches remote services`);
    if (isRecord(def.env) && Object.keys(def.env).length) bump('secrets', 'scoped', `${name}: env ${Object.keys(def.env).join(', ')}`);
    if (/github|gitlab|slack|postgres|mysql|aws|gdrive|google/.test(line)) bump('secrets', 'scoped', `${name}: acts with a service credential`);
    // Any local server is a process running with the user's rights.
    if (typeof def.command === 'string') bump('shell', 'scoped', `${name}: launches ${def.command}`);
  }
  const out = {} as Record<ToolCategory, CategoryAccess>;
  for (const c of Object.keys(acc) as ToolCategory[]) out[c] = cat(acc[c].a, acc[c].why.join('; ') || 'no server provides it');
  return out;
}
