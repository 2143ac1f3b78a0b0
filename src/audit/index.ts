/**
 * Audit module: the hash-chained, signed session log, its SQLite index, verification, export,
 * runtime monitors (gVisor trace points, strace for bwrap), the session summary, attestations
 * and policy suggestions. Other modules import only from here.
 *
 * Example:
 * ```ts
 * const log = await openAuditLog({ sessionId, sessionDir, policyDigest, backend: 'gvisor' });
 * log.emit({ kind: 'network', action: 'request', decision: 'allow', subject: 'registry.npmjs.org:443', detail: { method: 'GET' } });
 * await log.close({ exitCode: 0 });
 * ```
 */
export type { AuditEvent, AuditSink, EventInput, EventKind, Decision } from './types.js';
export { AuditLog, openAuditLog, GENESIS_PREV, LOG_FILE, type OpenAuditLogOptions, type SessionEndSummary, type AuditStats, type SealInfo } from './log.js';
export { verifyLogFile, verifyLogText, type VerifyResult, type VerifyProblem, type VerifyOptions } from './verify.js';
export { canonicalJson, sha256Hex } from './canonical.js';
export { loadHostIdentity, trustedHostKeys, identityDir, type HostIdentity, type SessionCertificate } from './keys.js';
export { indexPath, openIndex, closeIndex, indexSession, ensureIndexed, listIndexedSessions, queryEvents, sessionRow, sealWitness } from './store.js';
export { startGvisorMonitor, podInitConfig, tracePoints, type GvisorMonitor, type GvisorMonitorOptions, type MonitorStats } from './gvisor-monitor.js';
export { bwrapTracer, straceAvailable, type BwrapTracer, type BwrapTracerOptions } from './strace-tracer.js';
export { ebpfTracer, ebpfUnavailableReason, type EbpfTracer, type EbpfTracerOptions } from './ebpf-tracer.js';
export { formatSessionSummary, type SummaryInput } from './summary.js';
export {
  attachAttestation,
  verifyAttestation,
  verifyEnvelope,
  writeSessionAttestation,
  changesDigest,
  digestEntriesFromChanges,
  digestEntriesFromCommit,
  pae,
  NOTES_REF,
  PREDICATE_TYPE,
  ATTESTATION_FILE,
  type DsseEnvelope,
  type Statement,
  type SessionPredicate,
  type AttestVerifyResult,
  type EnvelopeVerifyResult,
  type ChangeLike,
} from './attest.js';
export { toOcsf, toOcsfLines, toJsonl } from './export.js';
export { startSessionAudit, type AuditStepContext, type AuditStepOptions } from './session-step.js';
