/**
 * `airlock policy suggest SESSION... [--json]`: the tightest policy that covers what those sessions
 * used (YAML on stdout, valid for `airlock check`), with the permissions granted but never used
 * and the denials listed as comments at the top.
 */
import { existsSync } from 'node:fs';
import { resolveSession } from '../session/store.js';
import { queryEvents } from '../audit/index.js';
import { formatSuggestion, suggestPolicy } from '../audit/suggest.js';
import { loadPolicyFile, type Policy } from '../policy/index.js';
import { parseFlags, subcommand, type Command } from './command.js';

export const policyCommand: Command = {
  name: 'policy',
  summary: 'Policy tools: policy suggest SESSION... prints the tightest policy that covers those sessions.',
  usage: 'airlock policy suggest SESSION... [--policy FILE] [--json]',
  help: [
    'Subcommands:',
    '  policy suggest SESSION|last... [--policy FILE] [--json]',
    '      Print the tightest policy (YAML) covering the executables, hosts (with methods), secrets and',
    '      written paths those sessions used; the permissions the original policy granted but no session',
    '      used are listed in comments. --policy names the original policy (default: the one the first',
    '      session ran under, if its file still has the same digest).',
  ].join('\n'),
  async run(argv) {
    const split = subcommand(this, argv, ['suggest'] as const);
    if (!split) return 0;
    const { rest } = split;
    const c = { name: 'policy suggest', usage: 'airlock policy suggest SESSION... [--policy FILE] [--json]' };
    const { values, positionals } = parseFlags(c, rest, { policy: { type: 'string' }, json: { type: 'boolean' } });
    const refs = positionals.length ? positionals : ['last'];
    const ids = [...new Set(refs.map((r) => resolveSession(r)))];
    const sessions = ids.map((id) => ({ id, events: queryEvents(id) }));
    let original: Policy | undefined;
    if (values.policy) original = loadPolicyFile(values.policy);
    else {
      const start = sessions[0]?.events.find((e) => e.kind === 'session' && e.action === 'start');
      const file = typeof start?.detail.policyFile === 'string' ? start.detail.policyFile : undefined;
      if (file && !file.startsWith('<') && existsSync(file)) {
        try {
          const p = loadPolicyFile(file);
          if (p.source.digest === start?.detail.policyDigest) original = p;
        } catch {
          original = undefined;
        }
      }
    }
    const s = suggestPolicy({ sessions, original });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ sessions: ids, policy: s.document, unused: s.unused, denied: s.denied, notes: s.notes }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(formatSuggestion(s, ids));
    return 0;
  },
};
