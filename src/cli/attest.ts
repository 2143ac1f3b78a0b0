/**
 * `airlock attest verify REV [--repo DIR] [--json]`: verify the session attestation attached to a
 * commit (git notes refs/notes/airlock): DSSE signature by the session key, the host certificate
 * (trusted host key), the commit's changes against the attested staged changes, the
 * Airlock-Session trailer, and the log head when the session log is on this machine.
 * `airlock attest show REV`: print the in-toto statement.
 */
import { verifyAttestation } from '../audit/index.js';
import { usageError } from '../util/errors.js';
import { parseFlags, subcommand, type Command } from './command.js';

export const attestCommand: Command = {
  name: 'attest',
  summary: 'Verify the session attestation attached to a commit.',
  usage: 'airlock attest verify REV [--repo DIR] [--json]',
  help: [
    'Subcommands:',
    '  attest verify REV [--repo DIR] [--json]   check the attestation in git notes (refs/notes/airlock); exit 1 if any check fails',
    '  attest show REV [--repo DIR]              print the attested in-toto statement (JSON)',
    '',
    'Trust: the session key must be certified by this machine\'s host key or one in',
    '$AIRLOCK_HOME/identity/trusted/*.pub.pem.',
  ].join('\n'),
  async run(argv) {
    const split = subcommand(this, argv, ['verify', 'show'] as const);
    if (!split) return 0;
    const { sub, rest } = split;
    const c = { name: `attest ${sub}`, usage: `airlock attest ${sub} REV [--repo DIR]${sub === 'verify' ? ' [--json]' : ''}` };
    const { values, positionals } = parseFlags(c, rest, { repo: { type: 'string' }, json: { type: 'boolean' } }, { maxPositionals: 1 });
    const rev = positionals[0];
    if (!rev) throw usageError(`airlock attest ${sub}: REV is required`, `usage: ${c.usage}`);
    const r = verifyAttestation(values.repo ?? process.cwd(), rev);
    if (sub === 'show') {
      if (!r.statement) {
        process.stderr.write(`airlock attest show: ${r.checks[0]?.detail ?? 'no attestation'}\n`);
        return 1;
      }
      process.stdout.write(`${JSON.stringify(r.statement, null, 2)}\n`);
      return 0;
    }
    if (values.json) {
      const { statement, ...rest2 } = r;
      process.stdout.write(`${JSON.stringify({ ...rest2, predicate: statement?.predicate }, null, 2)}\n`);
      return r.ok ? 0 : 1;
    }
    process.stdout.write(`commit ${r.commit}${r.session ? `  session ${r.session}` : ''}\n`);
    for (const ch of r.checks) process.stdout.write(`  ${ch.ok === true ? 'ok  ' : ch.ok === false ? 'FAIL' : 'skip'}  ${ch.name.padEnd(11)} ${ch.detail}\n`);
    process.stdout.write(r.ok ? 'attestation verified\n' : 'attestation NOT verified\n');
    return r.ok ? 0 : 1;
  },
};
