/**
 * `airlock log`: query and verify the audit trail.
 *   log list [--json]
 *   log show SESSION|last [--kind K]... [--json]
 *   log verify SESSION|last [--json]
 *   log export [SESSION|last] --format jsonl|ocsf [--all]
 */
import { join } from 'node:path';
import { resolveSession, sessionDir } from '../session/store.js';
import { listIndexedSessions, queryEvents, sealWitness, verifyLogFile, LOG_FILE, type AuditEvent, type EventKind } from '../audit/index.js';
import { toJsonl, toOcsfLines } from '../audit/export.js';
import { usageError } from '../util/errors.js';
import { parseFlags, subcommand, type Command } from './command.js';

const KINDS: EventKind[] = ['process', 'file', 'network', 'secret', 'policy', 'session'];

export const logCommand: Command = {
  name: 'log',
  summary: 'Query and verify the audit trail: log list | show | verify | export.',
  usage: 'airlock log <subcommand> ...',
  help: [
    'Subcommands:',
    '  log list [--json]                                   sessions, newest last',
    '  log show SESSION|last [--kind K]... [--denied] [--json]  events (JSON: an array of events)',
    '  log verify SESSION|last [--json]                    check hashes, chain, signatures; exit 1 naming the line',
    '  log export [SESSION|last] --format jsonl|ocsf [--all] [--kind K]...  events for log pipelines (OCSF 1.1 classes)',
    '',
    'Kinds: process, file, network, secret, policy, session.',
  ].join('\n'),
  async run(argv) {
    const split = subcommand(this, argv, ['list', 'show', 'verify', 'export'] as const);
    if (!split) return 0;
    const { sub, rest } = split;
    switch (sub) {
      case 'list':
        return list(rest);
      case 'show':
        return show(rest);
      case 'verify':
        return verifyCmd(rest);
      case 'export':
        return exportCmd(rest);
    }
  },
};

const cmd = (name: string, usage: string) => ({ name: `log ${name}`, usage });

function list(argv: string[]): number {
  const { values } = parseFlags(cmd('list', 'airlock log list [--json]'), argv, { json: { type: 'boolean' } }, { maxPositionals: 0 });
  const rows = listIndexedSessions();
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map((r) => ({ id: r.id, createdAt: r.created_at, endedAt: r.ended_at, status: r.status, backend: r.backend, policyDigest: r.policy_digest, exitCode: r.exit_code, events: r.events, sealed: !!r.sealed, counts: JSON.parse(r.counts ?? '{}'), hosts: JSON.parse(r.hosts ?? '[]'), denials: r.denials, log: r.log_path })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('no sessions yet\n');
    return 0;
  }
  process.stdout.write(`${'SESSION'.padEnd(26)} ${'STATUS'.padEnd(8)} ${'BACKEND'.padEnd(7)} ${'EXIT'.padStart(4)} ${'EVENTS'.padStart(6)} ${'DENIED'.padStart(6)}  HOSTS\n`);
  for (const r of rows) {
    const hosts = (JSON.parse(r.hosts ?? '[]') as string[]).join(',');
    process.stdout.write(`${r.id.padEnd(26)} ${(r.status ?? '?').padEnd(8)} ${(r.backend ?? '?').padEnd(7)} ${String(r.exit_code ?? '-').padStart(4)} ${String(r.events).padStart(6)} ${String(r.denials).padStart(6)}  ${hosts}\n`);
  }
  return 0;
}

function parseKinds(values: string[] | undefined): EventKind[] | undefined {
  if (!values?.length) return undefined;
  const out: EventKind[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    if (!KINDS.includes(v as EventKind)) throw usageError(`airlock log: --kind "${v}" is not a kind`, `kinds: ${KINDS.join(', ')}`);
    out.push(v as EventKind);
  }
  return out;
}

function show(argv: string[]): number {
  const c = cmd('show', 'airlock log show SESSION|last [--kind K]... [--denied] [--json]');
  const { values, positionals } = parseFlags(c, argv, { kind: { type: 'string', multiple: true }, json: { type: 'boolean' }, denied: { type: 'boolean' } }, { maxPositionals: 1 });
  const id = resolveSession(positionals[0] ?? 'last');
  const events = queryEvents(id, { kinds: parseKinds(values.kind), decision: values.denied ? 'deny' : undefined });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    return 0;
  }
  for (const e of events) process.stdout.write(`${formatEventLine(e)}\n`);
  return 0;
}

/** One human line per event: `#12 18:40:01.123 process exec allow /usr/bin/git  argv=git status`. */
export function formatEventLine(e: AuditEvent): string {
  const d = e.detail;
  const extra: string[] = [];
  if (Array.isArray(d.argv)) extra.push(`argv=${(d.argv as unknown[]).map(String).join(' ')}`);
  if (typeof d.method === 'string') extra.push(`${d.method} ${typeof d.path === 'string' ? d.path : ''}`.trim());
  if (typeof d.exitCode === 'number') extra.push(`exit=${d.exitCode}`);
  if (typeof d.reason === 'string') extra.push(`reason=${d.reason}`);
  if (typeof d.sha256 === 'string') extra.push(`sha256=${d.sha256.slice(0, 12)}`);
  const time = e.time.slice(11, 23);
  return `#${e.seq} ${time} ${e.kind.padEnd(7)} ${e.action.padEnd(10)} ${e.decision.padEnd(5)} ${e.subject}${extra.length ? `  ${extra.join('  ')}` : ''}`;
}

function verifyCmd(argv: string[]): number {
  const c = cmd('verify', 'airlock log verify SESSION|last [--json]');
  const { values, positionals } = parseFlags(c, argv, { json: { type: 'boolean' } }, { maxPositionals: 1 });
  const id = resolveSession(positionals[0] ?? 'last');
  const file = join(sessionDir(id), LOG_FILE);
  let expected: { events: number; head: string } | undefined;
  try {
    expected = sealWitness(id);
  } catch {
    expected = undefined; // no index: verify the file alone
  }
  const r = verifyLogFile(file, { expected });
  if (values.json) {
    const { events: _events, ...rest } = r;
    process.stdout.write(`${JSON.stringify({ session: id, ...rest }, null, 2)}\n`);
    return r.ok ? 0 : 1;
  }
  if (r.ok) {
    process.stdout.write(`${file}: ok — ${r.lines} events, chain intact, sealed and signed by the session key (certified by host ${r.hostFingerprint?.slice(0, 23)}…)\n`);
    if (r.partialTail) process.stdout.write('note: a partly written last line was ignored\n');
    return 0;
  }
  process.stderr.write(`${file}: FAILED — ${r.problems.length} problem(s)\n`);
  for (const p of r.problems) process.stderr.write(`  ${p.code}: ${p.message}\n`);
  if (r.chainIntact && !r.sealed) process.stderr.write(`  the chain is intact through line ${r.lines}${r.partialTail ? ' (a partly written last line was ignored)' : ''}\n`);
  return 1;
}

function exportCmd(argv: string[]): number {
  const c = cmd('export', 'airlock log export [SESSION|last] --format jsonl|ocsf [--all]');
  const { values, positionals } = parseFlags(c, argv, { format: { type: 'string' }, all: { type: 'boolean' }, kind: { type: 'string', multiple: true } }, { maxPositionals: 1 });
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'ocsf') throw usageError(`airlock log export: --format "${format}" is not supported`, 'use --format jsonl or --format ocsf');
  const ids = values.all ? listIndexedSessions().map((r) => r.id) : [resolveSession(positionals[0] ?? 'last')];
  const kinds = parseKinds(values.kind);
  for (const id of ids) {
    const events = queryEvents(id, { kinds });
    process.stdout.write(format === 'ocsf' ? toOcsfLines(events) : toJsonl(events));
  }
  return 0;
}
