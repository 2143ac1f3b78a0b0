/**
 * The end-of-session summary printed on stderr by `airlock run`: what the agent did, in a dozen
 * lines — counts by kind, hosts contacted (with methods), denials, files changed, secrets used,
 * dropped monitor events, and where the log is.
 */
import type { AuditStats } from './log.js';

export interface SummaryInput {
  sessionId: string;
  stats: AuditStats;
  logPath: string;
  exitCode?: number;
  reason?: string;
  /** Changed files from the staged workspace (kind + path). */
  changes?: { kind: string; path: string; oldPath?: string }[];
  /** Log verification state: head hash and whether it was sealed. */
  head?: string;
  attestationPath?: string;
  /** Max items listed per section (default 8). */
  limit?: number;
}

/** Formats the summary as lines without a trailing newline. */
export function formatSessionSummary(s: SummaryInput): string {
  const limit = s.limit ?? 8;
  const st = s.stats;
  const list = (items: string[]) => (items.length <= limit ? items.join(', ') : `${items.slice(0, limit).join(', ')}, … (+${items.length - limit})`);
  const dur = st.endedAt ? ((Date.parse(st.endedAt) - Date.parse(st.startedAt)) / 1000).toFixed(1) : undefined;
  const lines: string[] = [];
  lines.push(`── airlock session ${s.sessionId} ${s.exitCode !== undefined ? `· exit ${s.exitCode}` : ''}${dur ? ` · ${dur}s` : ''}`.trimEnd());
  if (s.reason) lines.push(`  stopped:   ${s.reason}`);
  const counts = Object.entries(st.byKind)
    .filter(([k, n]) => n > 0 && k !== 'session')
    .map(([k, n]) => `${k} ${n}`);
  lines.push(`  events:    ${st.events} (${counts.length ? counts.join(', ') : 'no agent activity recorded'})`);
  const execs = Object.entries(st.executables).sort((a, b) => b[1] - a[1]);
  if (execs.length) lines.push(`  executed:  ${list(execs.map(([p, n]) => (n > 1 ? `${p.split('/').pop()}×${n}` : p.split('/').pop()!)))}`);
  const hosts = Object.entries(st.hosts).filter(([h]) => !h.startsWith('unix:'));
  lines.push(`  hosts:     ${hosts.length ? list(hosts.map(([h, v]) => `${h}${v.methods.length ? ` (${v.methods.join(',')})` : ''}${v.denied ? ` [${v.denied} denied]` : ''}`)) : 'none'}`);
  if (st.denials.length) {
    lines.push(`  denied:    ${st.denials.length}`);
    for (const d of st.denials.slice(0, limit)) lines.push(`    - ${d.kind} ${d.action} ${d.subject}${d.reason ? ` — ${d.reason}` : ''}`);
    if (st.denials.length > limit) lines.push(`    … and ${st.denials.length - limit} more (airlock log show ${s.sessionId} --denied)`);
  } else lines.push('  denied:    none');
  if (s.changes) {
    const byKind: Record<string, number> = {};
    for (const c of s.changes) byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
    const kinds = Object.entries(byKind).map(([k, n]) => `${n} ${k}`);
    lines.push(`  files:     ${s.changes.length ? `${s.changes.length} changed (${kinds.join(', ')}): ${list(s.changes.map((c) => c.path))}` : 'no changes'}`);
  }
  lines.push(`  secrets:   ${st.secretsUsed.length ? `used ${st.secretsUsed.join(', ')}` : 'none used'}${st.secretsRefused.length ? `; refused ${st.secretsRefused.join(', ')}` : ''}`);
  if (st.dropped) lines.push(`  WARNING:   the monitor dropped ${st.dropped} trace events: the record is incomplete`);
  lines.push(`  log:       ${s.logPath}${s.head ? ` (head ${s.head.slice(0, 12)}…, sealed)` : ''}`);
  if (s.attestationPath) lines.push(`  attested:  ${s.attestationPath}`);
  lines.push(`  review:    airlock diff ${s.sessionId} · airlock log show ${s.sessionId} · airlock log verify ${s.sessionId}`);
  return lines.join('\n');
}
