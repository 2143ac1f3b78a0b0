/**
 * The audit context handed to every scanner: where to look (repo, home), what was found so far
 * (findings, agents, credentials, warnings), the redactor every secret value goes through, and
 * the policy hints the suggested airlock policy is built from.
 */
import { relative } from 'node:path';
import type { AgentEntry, CredentialExposure, Finding } from './types.js';
import { Redactor } from './secrets.js';
import { parseJsonc, type JsoncResult } from './jsonc.js';
import { readTextFile, type ReadResult } from './fsread.js';

/** What the suggested airlock policy should contain, accumulated while scanning. */
export interface PolicyHints {
  commands: Set<string>;
  hosts: Set<string>;
  denyPaths: Set<string>;
  secrets: Map<string, { host: string; header: string; format: string }>;
}

export class AuditContext {
  readonly findings: Finding[] = [];
  readonly agents: AgentEntry[] = [];
  readonly credentials: CredentialExposure[] = [];
  readonly warnings: string[] = [];
  readonly redactor = new Redactor();
  readonly hints: PolicyHints = { commands: new Set(), hosts: new Set(), denyPaths: new Set(), secrets: new Map() };
  private readonly seen = new Set<string>();

  constructor(
    readonly repo: string,
    readonly home: string,
  ) {}

  add(f: Finding): void {
    const key = `${f.id}\0${f.file ?? ''}\0${f.line ?? ''}\0${f.evidence}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push(f);
  }

  credential(c: CredentialExposure): void {
    if (this.credentials.some((x) => x.location === c.location && x.kind === c.kind && x.redacted === c.redacted)) return;
    this.credentials.push(c);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** `~/.aws/credentials` or `.claude/settings.json` (relative to the repo) for messages. */
  display(path: string): string {
    const inRepo = relative(this.repo, path);
    if (!inRepo.startsWith('..') && inRepo !== path) return inRepo || '.';
    const inHome = relative(this.home, path);
    if (!inHome.startsWith('..') && inHome !== path) return `~/${inHome}`;
    return path;
  }

  read(path: string): ReadResult {
    const r = readTextFile(path);
    if (!r.ok && r.reason !== 'missing') this.warn(`${path}: skipped (${r.reason}: ${r.detail})`);
    return r;
  }

  /**
   * Reads and parses a JSON/JSONC config. Missing → undefined. Unparseable → a `malformed` finding
   * (the audit goes on) and undefined.
   */
  readJson(path: string, what: string): { value: unknown; text: string } | undefined {
    const r = this.read(path);
    if (!r.ok) return undefined;
    const parsed: JsoncResult = parseJsonc(r.text);
    if (!parsed.ok) {
      this.malformed(path, what, `${parsed.message} at line ${parsed.line}, column ${parsed.col}`, parsed.line);
      return undefined;
    }
    return { value: parsed.value, text: r.text };
  }

  malformed(path: string, what: string, detail: string, line?: number): void {
    this.add({
      id: 'config.malformed',
      severity: 'low',
      category: 'malformed',
      title: `${what} could not be parsed; its settings were not audited`,
      evidence: `${this.display(path)}${line ? `:${line}` : ''}: ${detail}`,
      asi: ['ASI02'],
      fix: `Fix the syntax of ${this.display(path)} (the agent may ignore or misread it, so what you believe is configured may not be in effect), then re-run \`airlock audit\`.`,
      file: path,
      line,
    });
  }
}
