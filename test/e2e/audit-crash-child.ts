/**
 * Child for audit-crash.test: opens a session log under $AIRLOCK_HOME and appends large events
 * as fast as it can (small batches, so writes are frequent) until it is killed.
 * argv: sessionId sessionDir
 */
import { openAuditLog } from '../../src/audit/index.js';

const [sessionId, sessionDir] = process.argv.slice(2) as [string, string];
const log = await openAuditLog({ sessionId, sessionDir, batchSize: 3, flushIntervalMs: 1, checkpointEvery: 25, index: false });
const filler = 'x'.repeat(20_000);
let i = 0;
process.stdout.write('ready\n');
for (;;) {
  log.emit({ kind: 'process', action: 'exec', decision: 'allow', subject: `/bin/p${i}`, detail: { argv: ['p', String(i), filler] } });
  i++;
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
