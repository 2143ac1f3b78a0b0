/**
 * The scorer: takes parsed files one at a time (so it can sit behind the streaming parser), runs
 * every rule, keeps only findings and counters, and produces the `ScoreReport`. Nothing from the
 * diff is executed, written or fetched.
 */
import type { HostPattern, Policy } from '../policy/index.js';
import { fileView } from './context.js';
import { DiffParser } from './diff-parser.js';
import { agentRules } from './rules/agent.js';
import { ciRules } from './rules/ci.js';
import type { Report } from './rules/common.js';
import { contentRules } from './rules/content.js';
import { depRules } from './rules/deps.js';
import { binaryRules, buildRules, modeRules, TestDeletionTracker } from './rules/files.js';
import { hookRules, installRules } from './rules/install.js';
import { scoreFindings } from './score.js';
import { levelRank, type FileDiff, type Finding, type ScoreReport, type SessionSummary } from './types.js';

export interface ScorerOptions {
  policy?: Policy;
  version?: string;
  /** Maximum findings kept per rule id and file (the rest are counted, not listed). */
  maxPerRuleFile?: number;
}

export class Scorer {
  readonly findings: Finding[] = [];
  readonly sessions: SessionSummary[] = [];
  private files = 0;
  private added = 0;
  private removed = 0;
  private binary = 0;
  private tests = new TestDeletionTracker();
  private readonly extraRegistries: (h: string) => boolean;
  private perKey = new Map<string, number>();
  readonly paths: string[] = [];

  constructor(private readonly opts: ScorerOptions = {}) {
    const regs = opts.policy?.review.registries ?? [];
    this.extraRegistries = (h) => regs.some((r) => hostMatches(r, h));
  }

  private readonly report: Report = (f) => {
    const key = `${f.id}\0${f.file}`;
    const n = (this.perKey.get(key) ?? 0) + 1;
    this.perKey.set(key, n);
    if (n > (this.opts.maxPerRuleFile ?? 5)) return;
    this.findings.push(f);
  };

  /** Adds a finding produced elsewhere (session evidence). */
  addFinding(f: Finding): void {
    this.report(f);
  }

  addFile(f: FileDiff): void {
    this.files++;
    this.added += f.addedCount;
    this.removed += f.removedCount;
    if (f.binary) this.binary++;
    if (this.paths.length < 100000) this.paths.push(f.path);
    this.tests.add(f);
    const v = fileView(f);
    binaryRules(v, this.report);
    modeRules(v, this.report);
    if (f.binary) return;
    ciRules(v, this.report);
    agentRules(v, this.report);
    hookRules(v, this.report);
    installRules(v, this.report);
    depRules(v, this.report, this.extraRegistries);
    buildRules(v, this.report);
    contentRules(v, this.report);
  }

  /** A streaming parser that feeds this scorer. */
  parser(): DiffParser {
    return new DiffParser((f) => this.addFile(f));
  }

  finish(): ScoreReport {
    this.tests.report(this.report);
    const findings = dedupe(this.findings).sort((a, b) => levelRank(b.severity) - levelRank(a.severity) || a.file.localeCompare(b.file) || a.line - b.line);
    const s = scoreFindings(findings, this.opts.policy);
    return {
      tool: { name: 'airlock', version: this.opts.version ?? '0.0.0' },
      level: s.level,
      score: s.score,
      decomposition: s.decomposition,
      review: s.review,
      summary: { files: this.files, added: this.added, removed: this.removed, binary: this.binary, findings: findings.length },
      findings,
      sessions: this.sessions,
    };
  }
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.id}\0${f.file}\0${f.line}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Does a policy host pattern cover this host name? */
export function hostMatches(p: HostPattern, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  switch (p.kind) {
    case 'exact':
      return h === p.host;
    case 'wildcard':
      return h.endsWith(`.${p.suffix}`);
    case 'ip':
      return h === p.address;
    default:
      return false;
  }
}

/** Scores a diff held in memory. */
export function scoreDiffText(diff: Buffer | string, opts: ScorerOptions = {}): ScoreReport {
  const s = new Scorer(opts);
  const p = s.parser();
  p.write(diff);
  p.end();
  return s.finish();
}
