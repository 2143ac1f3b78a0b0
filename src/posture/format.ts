/**
 * Renders an `AuditReport` as text (terminal), JSON (the report itself), Markdown (PR comments,
 * wikis) or SARIF 2.1.0 (code scanning). All four are produced from the already-scrubbed report,
 * so no format can show a secret the JSON does not.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { relative } from 'node:path';
import { ASI_TITLES, SEVERITIES, TOOL_CATEGORIES, type AuditReport, type Finding, type Severity } from './types.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../util/report-format.js';

export const FORMATS = REPORT_FORMATS;
export type Format = ReportFormat;

export function formatReport(r: AuditReport, format: Format): string {
  return renderReport(r, format, { text, markdown, sarif });
}

function where(r: AuditReport, f: Finding): string {
  if (!f.file) return '';
  const rel = relative(r.inputs.repo, f.file);
  const shown = !rel.startsWith('..') && rel ? rel : f.file.startsWith(`${r.inputs.home}/`) ? `~/${f.file.slice(r.inputs.home.length + 1)}` : f.file;
  return `${shown}${f.line ? `:${f.line}` : ''}`;
}

function countsLine(r: AuditReport): string {
  return [...SEVERITIES].reverse().map((s) => `${r.summary.counts[s]} ${s}`).join(', ');
}

function runtimeLine(r: AuditReport): string[] {
  const rt = r.runtime;
  if (!rt.probed) return ['  not probed (--no-runtime-probe)'];
  const b = rt.backends;
  return [
    `  isolation: ${rt.isolation}${rt.sharedKernel ? ' (shared host kernel)' : ''} — ${rt.evidence.join('; ')}`,
    `  docker socket: ${rt.dockerSocket.reachable ? `REACHABLE ${[...rt.dockerSocket.paths, rt.dockerSocket.dockerHost ?? ''].filter(Boolean).join(', ')}` : 'not reachable'}`,
    `  running as root: ${rt.runningAsRoot ? 'yes' : 'no'}`,
    `  airlock backends${b.gvisor.verified ? ' (verified by starting a sandbox)' : ' (found on PATH; --probe-backends to verify)'}: gvisor ${b.gvisor.available ? `yes (${[b.gvisor.path, b.gvisor.version].filter(Boolean).join(' ')})` : 'no'}, bwrap ${b.bwrap.available ? `yes (${[b.bwrap.path, b.bwrap.version].filter(Boolean).join(' ')})` : 'no'}, microvm ${b.microvm.available ? 'yes' : 'no'} (${b.microvm.detail})`,
  ];
}

function text(r: AuditReport): string {
  const out: string[] = [];
  out.push(`airlock audit — repo ${r.inputs.repo}, home ${r.inputs.home}${r.inputs.env ? ', environment included' : ''}`);
  out.push(`level: ${r.summary.level.toUpperCase()}  (${countsLine(r)})`, '');
  out.push(`agents (${r.agents.length}):`);
  if (!r.agents.length) out.push('  no agent configuration found');
  for (const a of r.agents) {
    out.push(`  ${a.name} [${a.scope}]${a.everythingByDefault ? '  ** EVERYTHING BY DEFAULT **' : ''}  ${a.files.map((f) => shortPath(r, f)).join(', ')}`);
    for (const c of TOOL_CATEGORIES) out.push(`    ${c.padEnd(10)}  ${a.categories[c].access.padEnd(12)}  ${a.categories[c].detail}`);
    for (const s of a.mcpServers ?? []) out.push(`    mcp ${s.name}: ${s.command}`);
    for (const n of a.notes) out.push(`    note: ${n}`);
  }
  out.push('', 'runtime:', ...runtimeLine(r), '');
  out.push(`credentials (${r.credentials.length}):`);
  if (!r.credentials.length) out.push('  none found');
  for (const c of r.credentials) out.push(`  [${c.severity}] ${c.source.padEnd(12)} ${c.kind.padEnd(20)} ${c.redacted}  ${shortPath(r, c.location)}`);
  out.push('', `findings (${r.findings.length}):`);
  if (!r.findings.length) out.push('  none');
  for (const f of r.findings) {
    out.push(`  [${f.severity.toUpperCase()}] ${f.title}`);
    out.push(`    ${f.id} · ${f.asi.map((a) => `${a} ${ASI_TITLES[a]}`).join(', ')}${f.file ? ` · ${where(r, f)}` : ''}`);
    out.push(`    evidence: ${f.evidence}`);
    out.push(...f.fix.split('\n').map((l, i) => (i === 0 ? `    fix: ${l}` : `      ${l}`)));
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push('', 'suggested airlock policy (also in --format json as suggestedPolicy):', ...r.suggestedPolicy.trimEnd().split('\n').map((l) => `  ${l}`), '');
  return `${out.join('\n')}\n`;
}

function shortPath(r: AuditReport, p: string): string {
  if (p.startsWith(`${r.inputs.repo}/`)) return p.slice(r.inputs.repo.length + 1);
  if (p.startsWith(`${r.inputs.home}/`)) return `~/${p.slice(r.inputs.home.length + 1)}`;
  return p;
}

function md(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

function markdown(r: AuditReport): string {
  const out: string[] = [];
  out.push('# airlock posture audit', '');
  out.push(`**Level: ${r.summary.level.toUpperCase()}** — ${countsLine(r)}`, '');
  out.push(`Repository \`${r.inputs.repo}\`, home \`${r.inputs.home}\`${r.inputs.env ? ', environment included' : ''}.`, '');
  out.push('## Agents: tool-category map', '');
  if (!r.agents.length) out.push('No agent configuration found.', '');
  else {
    out.push('| agent | scope | filesystem | shell | network | secrets | everything by default | files |', '|---|---|---|---|---|---|---|---|');
    for (const a of r.agents) out.push(`| ${md(a.name)} | ${a.scope} | ${TOOL_CATEGORIES.map((c) => `${a.categories[c].access}`).join(' | ')} | ${a.everythingByDefault ? '**yes**' : 'no'} | ${a.files.map((f) => `\`${md(shortPath(r, f))}\``).join(', ')} |`);
    out.push('');
  }
  out.push('## Runtime', '', ...runtimeLine(r).map((l) => `- ${l.trim()}`), '');
  out.push('## Credentials', '');
  if (!r.credentials.length) out.push('None found.', '');
  else {
    out.push('| severity | source | kind | value | where |', '|---|---|---|---|---|');
    for (const c of r.credentials) out.push(`| ${c.severity} | ${c.source} | ${c.kind} | \`${md(c.redacted)}\` | \`${md(shortPath(r, c.location))}\` |`);
    out.push('');
  }
  out.push('## Findings', '');
  if (!r.findings.length) out.push('None.', '');
  for (const f of r.findings) {
    out.push(`### ${f.severity.toUpperCase()}: ${f.title}`, '');
    out.push(`- **id**: \`${f.id}\` (${f.category})`);
    out.push(`- **OWASP ASI**: ${f.asi.map((a) => `${a} ${ASI_TITLES[a]}`).join(', ')}`);
    if (f.file) out.push(`- **where**: \`${where(r, f)}\``);
    out.push(`- **evidence**: \`${f.evidence.replace(/`/g, "'")}\``);
    out.push('- **fix**:', '', '```', f.fix, '```', '');
  }
  if (r.warnings.length) out.push('## Warnings', '', ...r.warnings.map((w) => `- ${w}`), '');
  out.push('## Suggested airlock policy', '', '```yaml', r.suggestedPolicy.trimEnd(), '```', '');
  return out.join('\n');
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

function sarif(r: AuditReport): unknown {
  const ruleIds = [...new Set(r.findings.map((f) => f.id))].sort();
  const rules = ruleIds.map((id) => {
    const f = r.findings.find((x) => x.id === id)!;
    const worst = r.findings.filter((x) => x.id === id).map((x) => x.severity).sort((a, b) => SEVERITIES.indexOf(b) - SEVERITIES.indexOf(a))[0]!;
    return {
      id,
      name: id.replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase()),
      shortDescription: { text: f.title },
      fullDescription: { text: `${f.title}. Related OWASP Agentic risks: ${f.asi.map((a) => `${a} ${ASI_TITLES[a]}`).join(', ')}.` },
      help: { text: f.fix },
      defaultConfiguration: { level: SARIF_LEVEL[worst] },
      properties: { tags: ['security', 'ai-agent', f.category, ...f.asi], 'security-severity': SECURITY_SEVERITY[worst] },
    };
  });
  const repoUri = pathToFileURL(r.inputs.repo.endsWith('/') ? r.inputs.repo : `${r.inputs.repo}/`).href;
  const results = r.findings.map((f) => {
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIds.indexOf(f.id),
      level: SARIF_LEVEL[f.severity],
      message: { text: `${f.title}. Evidence: ${f.evidence}. Fix: ${f.fix}` },
      properties: { severity: f.severity, category: f.category, asi: f.asi, evidence: f.evidence, fix: f.fix, 'security-severity': SECURITY_SEVERITY[f.severity] },
      // Stable across runs and line moves, so code scanning tracks a finding instead of re-opening it.
      partialFingerprints: { 'airlockFinding/v1': createHash('sha256').update(`${f.id}\0${f.file ? relative(r.inputs.repo, f.file) : ''}\0${f.evidence.replace(/:\d+(?=[:\s]|$)/g, '')}`).digest('hex').slice(0, 32) },
    };
    if (f.file) {
      const rel = relative(r.inputs.repo, f.file);
      const inRepo = rel && !rel.startsWith('..');
      result.locations = [
        {
          physicalLocation: {
            artifactLocation: inRepo ? { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: 'REPOROOT' } : { uri: pathToFileURL(f.file).href },
            ...(f.line ? { region: { startLine: f.line } } : {}),
          },
        },
      ];
    }
    return result;
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'airlock-audit', fullName: 'airlock posture audit', version: r.tool.version, rules } },
        originalUriBaseIds: { REPOROOT: { uri: repoUri } },
        invocations: [{ executionSuccessful: true, endTimeUtc: r.generatedAt }],
        results,
        properties: { level: r.summary.level, counts: r.summary.counts },
      },
    ],
  };
}
