/**
 * Review module: diff parsing, rules, session evidence, scoring and report rendering for
 * `airlock score`. Never runs anything from the diff.
 *
 * Example:
 * ```ts
 * const report = scoreDiffText(readFileSync('pr.diff'));
 * console.log(report.level, report.score, report.findings.length);
 * ```
 */
export { DiffParser, DiffParseError, parseDiff, parseDiffStream, unquote } from './diff-parser.js';
export { Scorer, scoreDiffText, hostMatches, type ScorerOptions } from './engine.js';
export { scoreFindings, reviewFor, parseLevel, WEIGHTS, DEFAULT_REVIEW } from './score.js';
export { render, text, markdown, sarif, mdCell, FORMATS, type Format } from './format.js';
export { collectSessionEvidence, defaultVerifiers, verifyDsse, type SessionVerifiers, type SessionEvidenceOptions } from './session.js';
export { redact } from './secret-patterns.js';
export { CATEGORIES, LEVELS, levelRank, type Category, type FileDiff, type Finding, type Level, type ScoreReport, type Severity } from './types.js';
