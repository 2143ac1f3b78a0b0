/**
 * Compiles a validated policy document into the resolved `Policy` every other module uses:
 * absolute paths (relative to the policy file, `~` expanded), parsed durations and sizes, parsed
 * host patterns, and argv deny patterns compiled to regular expressions — once, at load time.
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PolicyDocument, RiskLevel } from './schema.js';
import { parseDuration, parseSize } from './units.js';
import { parseHostPattern, type HostPattern } from './host-pattern.js';
import { globToRegExp } from './glob.js';

export type Isolation = 'gvisor' | 'bwrap' | 'microvm' | 'auto';

export interface NetworkRule {
  pattern: HostPattern;
  /** Explicit ports (from `host:port` or `ports`); undefined = default 443 and 80. */
  ports?: number[];
  /** Upper-case methods; undefined = any. */
  methods?: string[];
  /** Path globs as written, and compiled. undefined = any path. */
  paths?: { glob: string; re: RegExp }[];
  /** The rule as written, for messages. */
  text: string;
}

export type SecretSource = { kind: 'env'; name: string } | { kind: 'file'; path: string } | { kind: 'cmd'; command: string };

export interface GithubAppMint {
  provider: 'github-app';
  appId: string;
  installationId: string;
  privateKey: SecretSource;
  repositories?: string[];
  permissions?: Record<string, 'read' | 'write' | 'admin'>;
  apiUrl: string;
}

export interface SecretSpec {
  /** The environment variable name inside the sandbox (holds a placeholder). */
  name: string;
  source?: SecretSource;
  mint?: GithubAppMint;
  inject: { host: HostPattern; header?: string; format?: string };
  ttlMs?: number;
  renew: boolean;
}

export interface ArgvPattern {
  text: string;
  re: RegExp;
}

export interface Policy {
  /** Absolute path of the policy file (or `<builtin>`), its directory, and the SHA-256 of its text. */
  source: { file: string; dir: string; digest: string };
  document: PolicyDocument;
  runtime: {
    isolation: Isolation;
    limits: { wallTimeMs?: number; memoryBytes?: number; pids?: number; cpus?: number; diskBytes?: number };
  };
  filesystem: { workspace?: string; read: string[]; write: string[]; deny: string[] };
  commands: { allow: string[]; deny: ArgvPattern[] };
  network: { allow: NetworkRule[]; deny: NetworkRule[]; upstreamCA?: string };
  secrets: SecretSpec[];
  env: { pass: string[]; set: Record<string, string> };
  review: { approvals: Record<RiskLevel, number>; labels: Record<RiskLevel, string[]>; registries: HostPattern[] };
}

export const DEFAULT_APPROVALS: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 2 };

export function compilePolicy(doc: PolicyDocument, policyFile: string, digest: string): Policy {
  const dir = dirname(policyFile);
  const path = (p: string) => resolvePath(p, dir);
  const limits = doc.runtime?.limits ?? {};
  return {
    source: { file: policyFile, dir, digest },
    document: doc,
    runtime: {
      isolation: doc.runtime?.isolation ?? 'gvisor',
      limits: {
        wallTimeMs: limits.wallTime ? (parseDuration(limits.wallTime) as number) : undefined,
        memoryBytes: limits.memory !== undefined ? (parseSize(limits.memory) as number) : undefined,
        pids: limits.pids,
        cpus: limits.cpus,
        diskBytes: limits.disk !== undefined ? (parseSize(limits.disk) as number) : undefined,
      },
    },
    filesystem: {
      workspace: doc.filesystem?.workspace !== undefined ? path(doc.filesystem.workspace) : undefined,
      read: (doc.filesystem?.read ?? []).map(path),
      write: (doc.filesystem?.write ?? []).map(path),
      deny: (doc.filesystem?.deny ?? []).map((p) => (p.startsWith('**') ? p : path(p))),
    },
    commands: {
      allow: [...new Set(doc.commands?.allow ?? [])],
      deny: (doc.commands?.deny ?? []).map((text) => ({ text, re: argvPatternToRegExp(text) })),
    },
    network: {
      allow: (doc.network?.allow ?? []).map(compileNetworkRule),
      deny: (doc.network?.deny ?? []).map(compileNetworkRule),
      upstreamCA: doc.network?.upstreamCA ? path(doc.network.upstreamCA) : undefined,
    },
    secrets: Object.entries(doc.secrets ?? {}).map(([name, s]) => ({
      name,
      source: s.from ? parseSecretSource(s.from, dir) : undefined,
      mint: s.mint
        ? {
            provider: 'github-app',
            appId: String(s.mint.appId),
            installationId: String(s.mint.installationId),
            privateKey: parseSecretSource(s.mint.privateKey, dir),
            repositories: s.mint.repositories,
            permissions: s.mint.permissions,
            apiUrl: (s.mint.apiUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
          }
        : undefined,
      inject: { host: parseHostPattern(s.inject.host) as HostPattern, header: s.inject.header, format: s.inject.format },
      ttlMs: s.ttl ? (parseDuration(s.ttl) as number) : undefined,
      renew: s.renew ?? false,
    })),
    env: { pass: doc.env?.pass ?? [], set: doc.env?.set ?? {} },
    review: {
      approvals: { ...DEFAULT_APPROVALS, ...(doc.review?.approvals ?? {}) },
      labels: { low: [], medium: [], high: [], critical: [], ...(doc.review?.labels ?? {}) },
      registries: (doc.review?.registries ?? []).map((h) => parseHostPattern(h) as HostPattern),
    },
  };
}

export function compileNetworkRule(rule: string | { host: string; ports?: number[]; methods?: string[]; paths?: string[] }): NetworkRule {
  const r = typeof rule === 'string' ? { host: rule } : rule;
  const pattern = parseHostPattern(r.host) as HostPattern;
  const ports = r.ports ?? (pattern.port ? [pattern.port] : undefined);
  return {
    pattern,
    ports,
    methods: r.methods?.map((m) => m.toUpperCase()),
    paths: r.paths?.map((glob) => ({ glob, re: pathGlobToRegExp(glob) })),
    text: typeof rule === 'string' ? rule : JSON.stringify(rule),
  };
}

/** `/repos/acme/**` → regexp; `*` stays within a segment, `**` crosses segments. Linear-time (see glob.ts). */
export function pathGlobToRegExp(glob: string): RegExp {
  return globToRegExp(glob, 'path');
}

/** `git push --force*` → matches the argv joined by single spaces; `*` matches anything. Linear-time. */
export function argvPatternToRegExp(text: string): RegExp {
  return globToRegExp(text.trim().split(/\s+/).join(' '), 'argv');
}

export function parseSecretSource(text: string, dir: string): SecretSource {
  if (text.startsWith('env:')) return { kind: 'env', name: text.slice(4) };
  if (text.startsWith('file:')) return { kind: 'file', path: resolvePath(text.slice(5), dir) };
  return { kind: 'cmd', command: text.slice(4) };
}

/** Resolves `~`, `~/x` and relative paths (against `dir`). */
export function resolvePath(p: string, dir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(dir, p);
}
