/**
 * The vocabulary of the posture audit (`airlock audit`): findings, the tool-category map of each
 * agent configuration, the runtime probe result and the credential exposures. The JSON report is
 * exactly `AuditReport`; every other output format is rendered from it.
 *
 * Example finding:
 * ```json
 * { "id": "claude.bypass-permissions", "severity": "critical", "category": "agent-config",
 *   "title": "Claude Code runs every tool without asking (defaultMode: bypassPermissions)",
 *   "evidence": "permissions.defaultMode = \"bypassPermissions\"", "asi": ["ASI02", "ASI05"],
 *   "fix": "Remove defaultMode ... or run the agent under airlock: ...", "file": "/repo/.claude/settings.json" }
 * ```
 */

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** OWASP Top 10 for Agentic Applications (2026) identifiers. */
export type AsiId = 'ASI01' | 'ASI02' | 'ASI03' | 'ASI04' | 'ASI05' | 'ASI06' | 'ASI07' | 'ASI08' | 'ASI09' | 'ASI10';

export const ASI_TITLES: Record<AsiId, string> = {
  ASI01: 'Agent Goal Hijack',
  ASI02: 'Tool Misuse and Exploitation',
  ASI03: 'Identity and Privilege Abuse',
  ASI04: 'Agentic Supply Chain Vulnerabilities',
  ASI05: 'Unexpected Code Execution',
  ASI06: 'Memory and Context Poisoning',
  ASI07: 'Insecure Inter-Agent Communication',
  ASI08: 'Cascading Failures',
  ASI09: 'Human-Agent Trust Exploitation',
  ASI10: 'Rogue Agents',
};

export type FindingCategory = 'agent-config' | 'mcp' | 'runtime' | 'credential' | 'ci' | 'policy' | 'malformed';

export interface Finding {
  /** Stable rule id, e.g. `claude.bypass-permissions`, `cred.env-token`. */
  id: string;
  severity: Severity;
  category: FindingCategory;
  title: string;
  /** What was seen; secret values appear only redacted (`ghp_…(40 chars)`). */
  evidence: string;
  asi: AsiId[];
  /** The concrete fix; often an airlock policy snippet. */
  fix: string;
  /** The file the finding is about (absolute), when there is one. */
  file?: string;
  /** 1-based line in `file`, when known. */
  line?: number;
}

/**
 * How an agent may use one tool category:
 * - `none`: it cannot;
 * - `ask`: each use needs a human approval;
 * - `scoped`: used without asking, but limited (allow-list, sandbox, workspace only);
 * - `unrestricted`: used without asking and without limits.
 */
export type Access = 'none' | 'ask' | 'scoped' | 'unrestricted';
export const ACCESS_ORDER: readonly Access[] = ['none', 'ask', 'scoped', 'unrestricted'];

export type ToolCategory = 'filesystem' | 'shell' | 'network' | 'secrets';
export const TOOL_CATEGORIES: readonly ToolCategory[] = ['filesystem', 'shell', 'network', 'secrets'];

export interface CategoryAccess {
  access: Access;
  /** Why: the setting or rule that decides it. */
  detail: string;
}

export interface AgentEntry {
  /** `claude-code`, `codex`, `cursor`, `vscode-copilot`, `aider`, `gemini-cli`, `mcp`, `airlock`. */
  agent: string;
  /** Human name, e.g. `Claude Code`. */
  name: string;
  /** `repo` or `home` (user-wide) configuration. */
  scope: 'repo' | 'home';
  /** The configuration files this entry was read from (absolute). */
  files: string[];
  categories: Record<ToolCategory, CategoryAccess>;
  /** The categories whose access is not `none`. */
  canUse: ToolCategory[];
  /** True when every category is reachable without asking a human (bypass / yolo / full access). */
  everythingByDefault: boolean;
  /** MCP servers this configuration starts (name → command line, redacted). */
  mcpServers?: { name: string; command: string }[];
  notes: string[];
}

export interface BackendStatus {
  available: boolean;
  path?: string;
  /** True when a sandbox was actually started (`--probe-backends`). */
  verified?: boolean;
  version?: string;
  detail?: string;
}

export type IsolationKind = 'gvisor' | 'microvm' | 'container' | 'none';

export interface RuntimeReport {
  /** The strongest isolation boundary detected around this process. */
  isolation: IsolationKind;
  /** True when the kernel is shared with the host (container or none). */
  sharedKernel: boolean;
  evidence: string[];
  /** Container clues seen even when a stronger boundary wraps them. */
  container: { detected: boolean; evidence: string[] };
  dockerSocket: { reachable: boolean; paths: string[]; dockerHost?: string };
  runningAsRoot: boolean;
  /**
   * airlock's isolation backends. By default a light check (binary on PATH, user namespaces,
   * /dev/kvm); with `--probe-backends` the sandbox module's `detectBackends()` really starts one
   * (`verified: true`, plus its version and one-line detail).
   */
  backends: {
    gvisor: BackendStatus;
    bwrap: BackendStatus & { userNamespaces: boolean };
    microvm: BackendStatus & { detail: string };
  };
  /** `--no-runtime-probe`: the runtime was not inspected. */
  probed: boolean;
}

export interface CredentialExposure {
  /** `env`, `home-file`, `repo-file`, `agent-config`, `ci`. */
  source: 'env' | 'home-file' | 'repo-file' | 'agent-config' | 'ci';
  /** Kind of credential, e.g. `github-token`, `aws-access-key`, `ssh-private-key`. */
  kind: string;
  /** Where: an env var name, a file path (absolute), or `file:KEY`. */
  location: string;
  /** Redacted value, `ghp_…(40 chars)`, or a description (`encrypted`, `unencrypted`). */
  redacted: string;
  /** Long-lived (static) credential rather than a short-lived session token. */
  longLived: boolean;
  severity: Severity;
}

export interface AuditReport {
  tool: { name: 'airlock'; command: 'audit'; version: string };
  generatedAt: string;
  inputs: { repo: string; home: string; policy?: string; env: boolean; runtimeProbe: boolean };
  summary: { level: Severity | 'none'; counts: Record<Severity, number>; agents: number; credentials: number };
  agents: AgentEntry[];
  runtime: RuntimeReport;
  credentials: CredentialExposure[];
  findings: Finding[];
  /** An airlock policy (YAML) generated from what was found: a starting point that closes the findings. */
  suggestedPolicy: string;
  /** Files that could not be read or parsed, and other non-fatal notes. */
  warnings: string[];
}
