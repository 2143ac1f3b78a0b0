/**
 * `airlock init`: a commented starter policy for the repository at hand. It looks for package
 * manager files (npm, pip, cargo, go) and allows their registries and tools, and adds the chosen
 * agent's preset: its API host and the API key injected by the proxy (the agent sees a placeholder).
 * The output always passes `airlock check` (tested), and starts with a `yaml-language-server`
 * `$schema` line so editors complete it.
 *
 * Example:
 * ```ts
 * const text = renderStarterPolicy({ agent: 'claude', ecosystems: detectEcosystems('.'), schemaRef: SCHEMA_FILE });
 * ```
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Ecosystem = 'npm' | 'python' | 'cargo' | 'go';
export type AgentName = 'claude' | 'codex' | 'aider' | 'gemini';
export const AGENTS: readonly AgentName[] = ['claude', 'codex', 'aider', 'gemini'];

interface EcosystemPreset {
  label: string;
  /** Files whose presence at the repository root means the ecosystem is used. */
  markers: string[];
  hosts: string[];
  commands: string[];
}

export const ECOSYSTEMS: Record<Ecosystem, EcosystemPreset> = {
  npm: { label: 'npm (package.json)', markers: ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'], hosts: ['registry.npmjs.org'], commands: ['node', 'npm', 'npx'] },
  python: { label: 'Python (requirements.txt / pyproject.toml / setup.py)', markers: ['requirements.txt', 'pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile'], hosts: ['pypi.org', 'files.pythonhosted.org'], commands: ['python3', 'python', 'pip', 'pip3'] },
  cargo: { label: 'Rust (Cargo.toml)', markers: ['Cargo.toml'], hosts: ['crates.io', 'static.crates.io', 'index.crates.io'], commands: ['cargo', 'rustc', 'rustfmt'] },
  go: { label: 'Go (go.mod)', markers: ['go.mod'], hosts: ['proxy.golang.org', 'sum.golang.org'], commands: ['go', 'gofmt'] },
};

interface AgentPreset {
  label: string;
  /** The agent's executable(s) and the runtime they need. */
  commands: string[];
  apis: { host: string; secret: string; header: string; format?: string }[];
  /** Fixed variables for `env.set`, each with the reason written beside it. */
  env?: { name: string; value: string; why: string }[];
  note?: string;
}

export const AGENT_PRESETS: Record<AgentName, AgentPreset> = {
  // Verified by test/agents/claude-code.test.ts (the real Claude Code, this preset, a scripted model).
  // Claude Code 2.x is a native binary (no node needed); its search tool runs an embedded ripgrep
  // by re-executing itself; its Bash tool needs bash. Telemetry, error reports and update checks
  // are switched off instead of allowing their hosts (statsig, sentry): without the switch 2.1
  // also opens extra connections to api.anthropic.com, which would carry the injected key too.
  claude: {
    label: 'Claude Code',
    commands: ['claude'],
    apis: [{ host: 'api.anthropic.com', secret: 'ANTHROPIC_API_KEY', header: 'x-api-key' }],
    env: [{ name: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', value: '1', why: 'no telemetry, error reporting or auto-update traffic' }],
    note: 'With a Claude subscription token (`claude setup-token`) use CLAUDE_CODE_OAUTH_TOKEN with header Authorization, format "Bearer {}" instead.',
  },
  codex: {
    label: 'OpenAI Codex CLI',
    // `codex` is a Node launcher (`#!/usr/bin/env node`) that execs the native binary of the
    // @openai/codex-<platform> package; Codex runs its commands with bash and inspects the repo with git.
    commands: ['codex', 'node'],
    // Codex ignores OPENAI_API_KEY for its built-in provider; `codex exec` reads CODEX_API_KEY.
    apis: [{ host: 'api.openai.com', secret: 'CODEX_API_KEY', header: 'Authorization', format: 'Bearer {}' }],
    note: 'Codex reads CODEX_API_KEY (`from:` may name any host variable, e.g. env:OPENAI_API_KEY); run it with --dangerously-bypass-approvals-and-sandbox, airlock is the sandbox (docs/recipes/codex.md).',
  },
  aider: {
    label: 'Aider',
    commands: ['aider', 'python3'],
    apis: [
      { host: 'api.anthropic.com', secret: 'ANTHROPIC_API_KEY', header: 'x-api-key' },
      { host: 'api.openai.com', secret: 'OPENAI_API_KEY', header: 'Authorization', format: 'Bearer {}' },
    ],
    note: 'Aider talks to the model API of the key it finds; keep the one you use and delete the other.',
  },
  gemini: {
    label: 'Gemini CLI',
    commands: ['gemini', 'node'],
    apis: [{ host: 'generativelanguage.googleapis.com', secret: 'GEMINI_API_KEY', header: 'x-goog-api-key' }],
  },
};

/** Tools nearly every coding session needs. */
export const BASE_COMMANDS = [
  'sh', 'bash', 'env', 'git', 'cat', 'ls', 'cp', 'mv', 'rm', 'mkdir', 'touch', 'chmod', 'ln', 'head', 'tail', 'wc', 'sort',
  'uniq', 'cut', 'tr', 'grep', 'sed', 'awk', 'find', 'xargs', 'diff', 'patch', 'rg', 'which', 'dirname', 'basename', 'realpath',
  'mktemp', 'date', 'sleep', 'test', 'true', 'false', 'echo', 'printf', 'tar', 'gzip', 'make',
];

/** Which ecosystems the repository at `dir` uses, by their marker files. */
export function detectEcosystems(dir: string): Ecosystem[] {
  return (Object.keys(ECOSYSTEMS) as Ecosystem[]).filter((e) => ECOSYSTEMS[e].markers.some((m) => existsSync(join(dir, m))));
}

export interface StarterOptions {
  agent?: AgentName;
  ecosystems: Ecosystem[];
  /** Path or URL of the JSON Schema, written in the `yaml-language-server` line. */
  schemaRef?: string;
}

/** A YAML scalar: plain when safe, otherwise double-quoted. */
function q(s: string): string {
  return /^[A-Za-z0-9_./~-][A-Za-z0-9_./~ -]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~|-?\d[\d.]*)$/i.test(s) && !s.endsWith(' ') ? s : JSON.stringify(s);
}

function flow(items: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let cur = '';
  for (const it of items.map(q)) {
    if (cur && indent.length + cur.length + it.length + 4 > width) {
      lines.push(cur);
      cur = '';
    }
    cur += cur ? `, ${it}` : it;
  }
  if (cur) lines.push(cur);
  return `[${lines.join(`,\n${indent}  `)}]`;
}

/** The commented starter policy text. */
export function renderStarterPolicy(opts: StarterOptions): string {
  const agent = opts.agent ? AGENT_PRESETS[opts.agent] : undefined;
  const eco = opts.ecosystems.map((e) => ECOSYSTEMS[e]);
  const commands = [...new Set([...BASE_COMMANDS, ...eco.flatMap((e) => e.commands), ...(agent?.commands ?? [])])];
  const hosts: { host: string; why: string }[] = [];
  for (const e of eco) for (const h of e.hosts) hosts.push({ host: h, why: e.label.split(' (')[0]! });
  for (const a of agent?.apis ?? []) if (!hosts.some((h) => h.host === a.host)) hosts.push({ host: a.host, why: `${agent!.label} API` });
  const registries = eco.flatMap((e) => e.hosts);

  const out: string[] = [];
  if (opts.schemaRef) out.push(`# yaml-language-server: $schema=${opts.schemaRef}`);
  out.push(
    '# airlock policy — generated by `airlock init`. Default-deny: what is not listed here is not allowed.',
    `# Detected: ${eco.length ? eco.map((e) => e.label).join(', ') : 'no package manager files'}${agent ? `; agent preset: ${agent.label}` : ''}.`,
    '# Check it with `airlock check`, read it back with `airlock explain`. Reference: docs/policy.md.',
    'version: 1',
    '',
    'runtime:',
    '  isolation: gvisor        # gvisor (default) | bwrap (weaker, shared kernel) | auto (strongest available; see `airlock doctor`)',
    '  limits:',
    '    wallTime: 2h           # the sandbox is torn down after this',
    '    memory: 4GiB',
    '    pids: 1024',
    '',
    'filesystem:',
    '  workspace: .             # this repository, staged: changes reach it only through `airlock apply`',
    '  read: []                 # extra host paths visible read-only, e.g. [~/.gitconfig]',
    '  deny: ["**/.env", "**/.env.*"]   # hidden even inside the workspace; ~/.ssh, ~/.aws, ... are always hidden',
    '',
    'commands:',
    '  # Programs the agent may run (by name, looked up on PATH). Nothing else is executable.',
    `  allow: ${flow(commands, '  ')}`,
    '  # Command lines refused even for allowed programs (`*` matches anything).',
    '  deny: ["git push --force*", "git push -f*"]',
    '',
    'network:',
    '  # Hosts reachable through the airlock proxy (HTTPS 443 / HTTP 80 unless a port is given).',
  );
  if (hosts.length) {
    out.push('  allow:');
    for (const h of hosts) out.push(`    - ${q(h.host)}${' '.repeat(Math.max(1, 36 - q(h.host).length))}# ${h.why}`);
  } else out.push('  allow: []                # no network at all; add hosts such as registry.npmjs.org');
  out.push('  # A rule can also restrict methods and paths:', '  #   - { host: api.github.com, methods: [GET], paths: ["/repos/OWNER/REPO/**"] }');

  if (agent?.apis.length) {
    out.push('', 'secrets:', '  # The agent sees a placeholder; the proxy puts the real value (read on the host) into requests to `inject.host` only.');
    if (agent.note) out.push(`  # ${agent.note}`);
    for (const a of agent.apis) {
      out.push(`  ${a.secret}:`, `    from: env:${a.secret}`);
      out.push(`    inject: { host: ${q(a.host)}, header: ${q(a.header)}${a.format ? `, format: ${q(a.format)}` : ''} }`);
      out.push('    ttl: 2h');
    }
  } else {
    out.push('', '# secrets:', '#   GITHUB_TOKEN:', '#     from: env:GITHUB_TOKEN', '#     inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }   # needs api.github.com in network.allow', '#     ttl: 30m');
  }
  out.push('', 'env:', '  pass: [TERM, LANG]       # host variables passed in unchanged; everything else is scrubbed');
  if (agent?.env?.length) {
    out.push('  set:                     # fixed values set inside the sandbox');
    for (const e of agent.env) out.push(`    ${e.name}: ${JSON.stringify(e.value)}   # ${e.why}`);
  }
  out.push('', 'review:', '  approvals: { low: 0, medium: 1, high: 2, critical: 2 }   # required approvals per PR risk level');
  if (registries.length) out.push(`  registries: ${flow(registries, '  ')}`);
  return `${out.join('\n')}\n`;
}
