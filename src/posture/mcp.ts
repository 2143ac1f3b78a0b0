/**
 * MCP server definitions, in every agent's dialect (`mcpServers` in .mcp.json, Claude Desktop,
 * Cursor and Gemini; `servers` in VS Code's mcp.json; `[mcp_servers.x]` in Codex's TOML). For each
 * server: the command it launches (redacted), and findings for unpinned packages run with
 * `npx -y`/`uvx`, `docker run` with host mounts or privileges, inline credentials in `env`/`args`/
 * `headers`, and plain-HTTP remote endpoints.
 */
import type { AuditContext } from './context.js';
import { asStringArray, isRecord } from './jsonc.js';
import { findTokens, isSecretName, kindFromName, looksLikeSecretValue, shapeOf } from './secrets.js';

export interface McpServerInfo {
  name: string;
  command: string;
}

/** Analyses one MCP servers map (name → definition). Returns name + redacted command lines. */
export function auditMcpServers(ctx: AuditContext, servers: unknown, file: string, text: string, where: string): McpServerInfo[] {
  if (!isRecord(servers)) return [];
  const out: McpServerInfo[] = [];
  for (const [name, def] of Object.entries(servers)) {
    if (!isRecord(def)) continue;
    const line = lineOfKey(text, name);
    const command = typeof def.command === 'string' ? def.command : '';
    const args = asStringArray(def.args);
    const url = typeof def.url === 'string' ? def.url : typeof def.serverUrl === 'string' ? def.serverUrl : typeof def.httpUrl === 'string' ? def.httpUrl : undefined;

    // Inline credentials: env values, header values, and token-shaped args.
    for (const [bag, label] of [[def.env, 'env'], [def.headers, 'headers'], [def.http_headers, 'http_headers']] as const) {
      if (!isRecord(bag)) continue;
      for (const [k, v] of Object.entries(bag)) {
        if (typeof v !== 'string' || !looksLikeSecretValue(v)) continue;
        const shaped = shapeOf(v) ?? findTokens(v)[0]?.shape;
        if (!shaped && !isSecretName(k) && !/authorization|api[-_]?key|token/i.test(k)) continue;
        const red = ctx.redactor.redact(v);
        ctx.credential({ source: 'agent-config', kind: shaped?.kind ?? kindFromName(k), location: `${file}:${where}.${name}.${label}.${k}`, redacted: red, longLived: true, severity: 'high' });
        ctx.add({
          id: 'mcp.inline-credential',
          severity: 'high',
          category: 'credential',
          title: `MCP server "${name}" has a credential written inline (${label}.${k})`,
          evidence: `${ctx.display(file)}: ${where}.${name}.${label}.${k} = ${red}`,
          asi: ['ASI03'],
          fix: `Remove the value from ${ctx.display(file)} (and rotate it: it is in a file every agent and every clone can read). Reference an environment variable instead (e.g. "\${env:${k}}" or "$${k}") and, under airlock, broker it:\nsecrets:\n  ${envName(k)}:\n    from: env:${envName(k)}\n    inject: { host: <the API host>, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`,
          file,
          line: lineOfKey(text, k) ?? line,
        });
      }
    }
    for (const a of args) {
      for (const t of findTokens(a)) {
        const red = ctx.redactor.redact(t.value);
        ctx.credential({ source: 'agent-config', kind: t.shape.kind, location: `${file}:${where}.${name}.args`, redacted: red, longLived: true, severity: 'high' });
        ctx.add({
          id: 'mcp.inline-credential',
          severity: 'high',
          category: 'credential',
          title: `MCP server "${name}" passes a credential on its command line`,
          evidence: `${ctx.display(file)}: ${where}.${name}.args contains ${red}`,
          asi: ['ASI03'],
          fix: 'Pass credentials through an environment variable reference, never in args (args are visible to every process via /proc/*/cmdline). Rotate the exposed value.',
          file,
          line,
        });
      }
    }

    const cmdline = [command, ...args].filter(Boolean).join(' ');
    const shown = ctx.redactor.quote(cmdline || url || '(no command)');
    out.push({ name, command: shown });

    if (command) analyseLaunch(ctx, name, command, args, file, line);
    if (url) {
      let u: URL | undefined;
      try {
        u = new URL(url);
      } catch {
        /* reported below */
      }
      if (u && u.protocol === 'http:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname)) {
        ctx.add({
          id: 'mcp.plain-http-remote',
          severity: 'medium',
          category: 'mcp',
          title: `MCP server "${name}" is reached over plain HTTP`,
          evidence: `${ctx.display(file)}: ${where}.${name}.url = http://${u.host}${u.pathname}`,
          asi: ['ASI07'],
          fix: 'Use an https:// endpoint; tool calls and results (and any auth header) travel in clear text otherwise. Under airlock, allow only that host: `network: { allow: [ ' + u.hostname + ' ] }`.',
          file,
          line,
        });
      }
      if (u) ctx.hints.hosts.add(u.hostname);
    }
  }
  return out;
}

function envName(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : 'MCP_TOKEN';
}

function lineOfKey(text: string, key: string): number | undefined {
  const idx = text.indexOf(`"${key}"`);
  const i = idx >= 0 ? idx : text.search(new RegExp(`(^|[\\s.\\[])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[=:\\]]`, 'm'));
  return i >= 0 ? text.slice(0, i).split('\n').length : undefined;
}

function base(cmd: string): string {
  return cmd.split('/').pop()!.replace(/\.(cmd|exe)$/i, '');
}

function analyseLaunch(ctx: AuditContext, name: string, command: string, args: string[], file: string, line: number | undefined): void {
  const b = base(command);
  const runner = b === 'npx' || b === 'bunx' || b === 'pnpx' || (b === 'pnpm' && args[0] === 'dlx') || (b === 'yarn' && args[0] === 'dlx') || b === 'uvx' || (b === 'uv' && args[0] === 'tool' && args[1] === 'run') || b === 'pipx';
  if (runner) {
    const rest = b === 'pnpm' || b === 'yarn' ? args.slice(1) : b === 'uv' ? args.slice(2) : b === 'pipx' && args[0] === 'run' ? args.slice(1) : args;
    const pkg = rest.find((a) => !a.startsWith('-'));
    const autoYes = rest.includes('-y') || rest.includes('--yes');
    if (pkg) {
      const pinned = isPinned(pkg, b);
      if (!pinned) {
        ctx.add({
          id: 'mcp.unpinned-package',
          severity: autoYes ? 'medium' : 'low',
          category: 'mcp',
          title: `MCP server "${name}" runs an unpinned package (${ctx.redactor.quote(pkg)}) fetched at every start`,
          evidence: `${ctx.display(file)}: ${ctx.redactor.quote([command, ...args].join(' '))}`,
          asi: ['ASI04'],
          fix: `Pin an exact version (e.g. ${pkg.startsWith('@') || !pkg.includes('@') ? `${pkg}@1.2.3` : pkg}) or install it once and run the installed binary; a compromised or typo-squatted release otherwise runs with the agent's full rights on the next start.`,
          file,
          line,
        });
      }
    }
    ctx.hints.hosts.add(b === 'uvx' || b === 'uv' || b === 'pipx' ? 'pypi.org' : 'registry.npmjs.org');
  }
  if (b === 'docker' || b === 'podman') {
    const joined = args.join(' ');
    const mounts: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if ((a === '-v' || a === '--volume' || a === '--mount') && args[i + 1]) mounts.push(args[i + 1]!);
      else if (/^(-v|--volume=|--mount=)/.test(a) && a.length > 2) mounts.push(a.replace(/^(-v|--volume=|--mount=)/, ''));
    }
    const hostMounts = mounts.filter((m) => {
      const src = m.includes('source=') || m.includes('src=') ? /(?:source|src)=([^,]+)/.exec(m)?.[1] ?? '' : m.split(':')[0]!;
      return /^(\/|~|\$HOME|\$\{HOME\}|\$PWD|\$\{PWD\}|\.)/.test(src);
    });
    const dangerous = hostMounts.filter((m) => /^(\/|\/:|~|\$HOME|\$\{HOME\})(:|$)|docker\.sock|^\/(etc|root|home|var|proc|sys)(\/|:|$)|\.ssh|\.aws/.test(m.split(',').find((p) => /^(source|src)=/.test(p))?.replace(/^(source|src)=/, '') ?? m));
    const privileged = /--privileged|--cap-add[= ](ALL|SYS_ADMIN)|--pid[= ]host|--network[= ]host|--net[= ]host/.test(joined);
    if (hostMounts.length || privileged) {
      const sev = dangerous.length || privileged ? 'high' : 'medium';
      ctx.add({
        id: 'mcp.docker-host-access',
        severity: sev,
        category: 'mcp',
        title: `MCP server "${name}" runs a container with ${privileged ? 'host privileges' : 'host directories mounted'}`,
        evidence: `${ctx.display(file)}: ${ctx.redactor.quote([command, ...args].join(' '))}`,
        asi: ['ASI04', 'ASI05'],
        fix: 'Mount only the directory the server needs, read-only (`-v "$PWD:/work:ro"`), never /, $HOME, ~/.ssh or the Docker socket; drop --privileged/--network host; pin the image by digest (image@sha256:...).',
        file,
        line,
      });
    }
    const image = args.slice(args.indexOf('run') + 1).find((a, i, arr) => !a.startsWith('-') && !(i > 0 && /^(-v|--volume|-e|--env|--name|--network|--mount|-p|--publish|-w|--workdir|--user|-u|--entrypoint)$/.test(arr[i - 1]!)));
    if (args.includes('run') && image && !image.includes('@sha256:')) {
      ctx.add({
        id: 'mcp.unpinned-image',
        severity: 'low',
        category: 'mcp',
        title: `MCP server "${name}" runs an image not pinned by digest (${image})`,
        evidence: `${ctx.display(file)}: ${ctx.redactor.quote([command, ...args].join(' '))}`,
        asi: ['ASI04'],
        fix: `Pin the image by digest: ${image.split(':')[0]}@sha256:<digest>.`,
        file,
        line,
      });
    }
  }
  if (/^(sh|bash|zsh|dash)$/.test(b) && args.some((a) => /curl|wget/.test(a) && /\|\s*(sh|bash)/.test(a))) {
    ctx.add({
      id: 'mcp.curl-pipe-shell',
      severity: 'high',
      category: 'mcp',
      title: `MCP server "${name}" starts by piping a download into a shell`,
      evidence: `${ctx.display(file)}: ${ctx.redactor.quote([command, ...args].join(' '))}`,
      asi: ['ASI04', 'ASI05'],
      fix: 'Install the server from a pinned, verified release and run the installed binary.',
      file,
      line,
    });
  }
}

function isPinned(pkg: string, runner: string): boolean {
  if (runner === 'uvx' || runner === 'uv' || runner === 'pipx') return /==\d|@\d/.test(pkg);
  if (/^(\.|\/|file:|git\+|https?:)/.test(pkg)) return /#[0-9a-f]{7,}$/.test(pkg) || /^(\.|\/|file:)/.test(pkg);
  const at = pkg.startsWith('@') ? pkg.indexOf('@', 1) : pkg.indexOf('@');
  if (at < 0) return false;
  const ver = pkg.slice(at + 1);
  return /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(ver);
}
