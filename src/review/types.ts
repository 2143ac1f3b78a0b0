/**
 * The review vocabulary: a parsed diff (`FileDiff`), what a rule reports (`Finding`), and the
 * scored result (`ScoreReport`). The JSON output of `airlock score --format json` is a
 * `ScoreReport` as is; its field names are an interface others depend on.
 */

export type Level = 'low' | 'medium' | 'high' | 'critical';
export type Severity = Level;
export const LEVELS: readonly Level[] = ['low', 'medium', 'high', 'critical'];

export function levelRank(l: Level): number {
  return LEVELS.indexOf(l);
}

export function maxLevel(a: Level, b: Level): Level {
  return levelRank(a) >= levelRank(b) ? a : b;
}

export const CATEGORIES = [
  'ci-config',
  'ide-agent-config',
  'git-hooks-config',
  'install-scripts',
  'dependency-change',
  'prompt-injection',
  'secrets',
  'exfiltration',
  'binary-blob',
  'permission-change',
  'destructive',
  'build-system',
  'session',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One line of a hunk. `line` is the new-side number for `+` and ` `, the old-side number for `-`. */
export interface HunkLine {
  kind: '+' | '-' | ' ';
  text: string;
  line: number;
  /** Index of the hunk this line belongs to (0-based within the file). */
  hunk: number;
}

export type FileStatus = 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';

export interface FileDiff {
  /** Path before the change (null for a new file). */
  oldPath: string | null;
  /** Path after the change (null for a deleted file). */
  newPath: string | null;
  /** The path findings name: newPath, or oldPath for a deletion. */
  path: string;
  status: FileStatus;
  oldMode?: string;
  newMode?: string;
  similarity?: number;
  binary: boolean;
  /** For "GIT binary patch" literals: the decoded size and the first bytes of the new content. */
  binaryInfo?: { size?: number; head?: Buffer };
  /** Hunk lines in order (context, additions, deletions). */
  lines: HunkLine[];
  /** Number of added / removed lines (also counted when lines are not kept). */
  addedCount: number;
  removedCount: number;
  /** 1-based line of the `diff --git` (or `---`) header in the input. */
  headerLine: number;
  /** True when any content line ended in CRLF. */
  crlf: boolean;
}

export interface Finding {
  /** Stable rule identifier, e.g. `ci-config/pr-target-checkout`. */
  id: string;
  category: Category;
  severity: Severity;
  file: string;
  /** 1-based line in the new file (0 when the finding is about the whole file). */
  line: number;
  /** A short excerpt, secrets redacted. */
  evidence: string;
  why: string;
  fix: string;
}

export interface ScoreReport {
  tool: { name: 'airlock'; version: string };
  level: Level;
  score: number;
  decomposition: {
    /** How the score was computed, in one sentence. */
    method: string;
    weights: Record<Severity, number>;
    bySeverity: Record<Severity, { count: number; points: number }>;
    byCategory: Record<string, { count: number; points: number; maxSeverity: Severity }>;
    /** Which rule set the level: the highest finding severity, or the score threshold. */
    levelReason: string;
  };
  review: { level: Level; approvals: number; labels: string[] };
  summary: { files: number; added: number; removed: number; binary: number; findings: number };
  findings: Finding[];
  sessions: SessionSummary[];
}

export interface SessionSummary {
  id: string;
  source: string;
  verified: boolean | null;
  commits: string[];
  events: number;
  denials: number;
}
