/**
 * Renderers for a `ScoreReport`: plain text for terminals, Markdown for a PR comment (badge,
 * score, findings table, collapsed evidence), SARIF 2.1.0 for code scanning, and JSON (the report
 * as is). Every string that came from the diff is escaped for its medium: Markdown table cells
 * cannot break the table or inject HTML, and evidence has already been redacted.
 */
import { CATEGORIES, LEVELS, type Finding, type Level, type ScoreReport } from './types.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../util/report-format.js';

export type Format = ReportFormat;
export const FORMATS: readonly Format[] = REPORT_FORMATS;

export function render(r: ScoreReport, format: Format): string {
  return renderReport(r, format, { text, markdown, sarif });
}

const BADGE: Record<Level, string> = { low: '🟢', medium: '🟡', high: '🟠', critical: '🔴' };

export function text(r: ScoreReport): string {
  const out: string[] = [];
  out.push(`risk: ${r.level.toUpperCase()}  score ${r.score}/100  (${r.summary.files} files, +${r.summary.added} -${r.summary.removed}, ${r.findings.length} findings)`);
  out.push(`review: ${r.review.approvals} approval${r.review.approvals === 1 ? '' : 's'} required${r.review.labels.length ? `; labels: ${r.review.labels.join(', ')}` : ''}`);
  out.push(`why: ${r.decomposition.levelReason}`);
  const cats = Object.entries(r.decomposition.byCategory).sort((a, b) => b[1].points - a[1].points);
  if (cats.length) out.push(`points: ${cats.map(([c, v]) => `${c} ${v.points}`).join(', ')}`);
  for (const f of r.findings) {
    out.push('');
    out.push(`[${f.severity.toUpperCase()}] ${f.id}  ${f.file}${f.line ? `:${f.line}` : ''}`);
    out.push(`  ${f.evidence}`);
    out.push(`  why: ${f.why}`);
    out.push(`  fix: ${f.fix}`);
  }
  for (const s of r.sessions) {
    out.push('');
    out.push(`session ${s.id} (${s.source}): ${s.verified === null ? 'not verified' : s.verified ? 'verified' : 'VERIFICATION FAILED'}, ${s.events} events, ${s.denials} denials`);
  }
  return `${out.join('\n')}\n`;
}

/** Escapes text for a Markdown table cell: no pipes, no newlines, no HTML, no autolinks. */
export function mdCell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, 'ˋ')
    .replace(/@/g, '@\u200b');
}

function mdCode(s: string): string {
  return `<code>${mdCell(s)}</code>`;
}

export function markdown(r: ScoreReport): string {
  const out: string[] = [];
  out.push('<!-- airlock-score -->');
  out.push(`## ${BADGE[r.level]} airlock risk: **${r.level.toUpperCase()}** — score ${r.score}/100`);
  out.push('');
  out.push(`**Review:** ${r.review.approvals} approval${r.review.approvals === 1 ? '' : 's'} required${r.review.labels.length ? ` · labels: ${r.review.labels.map((l) => `\`${l.replace(/`/g, '')}\``).join(' ')}` : ''}  `);
  out.push(`${r.summary.files} files changed (+${r.summary.added} −${r.summary.removed}), ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}. ${mdCell(r.decomposition.levelReason)}.`);
  out.push('');
  if (r.findings.length) {
    out.push('| severity | category | finding | location |');
    out.push('|---|---|---|---|');
    const shown = r.findings.slice(0, 50);
    for (const f of shown) {
      out.push(`| ${BADGE[f.severity]} ${f.severity} | ${f.category} | ${mdCell(f.why.length > 160 ? `${f.why.slice(0, 157)}…` : f.why)} | ${mdCode(`${f.file}${f.line ? `:${f.line}` : ''}`)} |`);
    }
    if (r.findings.length > shown.length) out.push(`\n… and ${r.findings.length - shown.length} more (see the SARIF/JSON report).`);
    out.push('');
    out.push('<details><summary>Evidence and fixes</summary>');
    out.push('');
    for (const f of shown) {
      out.push(`- **${f.id}** ${mdCode(`${f.file}${f.line ? `:${f.line}` : ''}`)}  `);
      out.push(`  evidence: ${mdCode(f.evidence)}  `);
      out.push(`  fix: ${mdCell(f.fix)}`);
    }
    out.push('');
    out.push('</details>');
    out.push('');
  } else {
    out.push('No findings.');
    out.push('');
  }
  out.push('<details><summary>Score decomposition</summary>');
  out.push('');
  out.push('| category | findings | points | max severity |');
  out.push('|---|---|---|---|');
  for (const [c, v] of Object.entries(r.decomposition.byCategory)) out.push(`| ${c} | ${v.count} | ${v.points} | ${v.maxSeverity} |`);
  out.push('');
  out.push(mdCell(r.decomposition.method));
  out.push('');
  out.push('</details>');
  if (r.sessions.length) {
    out.push('');
    out.push('<details><summary>Agent sessions</summary>');
    out.push('');
    for (const s of r.sessions) out.push(`- ${mdCode(s.id)} (${mdCell(s.source)}): ${s.verified === null ? 'not verified' : s.verified ? '✅ verified' : '❌ verification failed'}, ${s.events} events, ${s.denials} denials`);
    out.push('');
    out.push('</details>');
  }
  return `${out.join('\n')}\n`;
}

const SARIF_LEVEL: Record<Level, 'note' | 'warning' | 'error'> = { low: 'note', medium: 'warning', high: 'error', critical: 'error' };
const SECURITY_SEVERITY: Record<Level, string> = { low: '2.0', medium: '5.0', high: '8.0', critical: '9.5' };

export function sarif(r: ScoreReport): object {
  const ruleIds = [...new Set(r.findings.map((f) => f.id))].sort();
  const firstOf = new Map<string, Finding>();
  for (const f of r.findings) if (!firstOf.has(f.id)) firstOf.set(f.id, f);
  const rules = ruleIds.map((id) => {
    const f = firstOf.get(id)!;
    return {
      id,
      name: id.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')),
      shortDescription: { text: `${f.category}: ${id.split('/')[1] ?? id}` },
      fullDescription: { text: f.why },
      help: { text: f.fix },
      defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
      properties: { tags: ['security', f.category], 'security-severity': SECURITY_SEVERITY[f.severity] },
    };
  });
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'airlock', version: r.tool.version, informationUri: 'https://github.com/airlock-dev/airlock', rules } },
        results: r.findings.map((f) => ({
          ruleId: f.id,
          ruleIndex: index.get(f.id),
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.why} Evidence: ${f.evidence}. Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file.replace(/^\/+/, '')), uriBaseId: '%SRCROOT%' },
                ...(f.line > 0 ? { region: { startLine: f.line } } : {}),
              },
            },
          ],
          partialFingerprints: { 'airlock/v1': fingerprint(f) },
          properties: { severity: f.severity, category: f.category },
        })),
        properties: { level: r.level, score: r.score, review: r.review, categories: CATEGORIES, levels: LEVELS },
      },
    ],
  };
}

function fingerprint(f: Finding): string {
  let h = 2166136261;
  for (const c of `${f.id}|${f.file}|${f.evidence}`) {
    h ^= c.charCodeAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
