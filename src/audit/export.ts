/**
 * Export of audit events for log pipelines and SIEMs:
 * - `jsonl`: the events exactly as recorded (one JSON object a line, hashes included);
 * - `ocsf`: OCSF 1.1 objects. process → Process Activity (1007: Launch/Terminate), file → File
 *   System Activity (1001: Create/Update/Delete/Rename/Set Attributes/Open), network `connect` →
 *   Network Activity (4001: Open, or Refuse when denied), network `request` → HTTP Activity (4002:
 *   by method). Kinds OCSF has no class for (session, secret, policy) become Base Events
 *   (class_uid 0) with the airlock event under `unmapped`. Every object keeps the airlock
 *   envelope (session, seq, hash) in `metadata` so records can be traced back to the signed log.
 */
import { hostname } from 'node:os';
import type { AuditEvent } from './types.js';

const OCSF_VERSION = '1.1.0';

const FILE_ACTIVITY: Record<string, [number, string]> = {
  create: [1, 'Create'],
  read: [2, 'Read'],
  write: [3, 'Update'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
  rename: [5, 'Rename'],
  chmod: [6, 'Set Attributes'],
  open: [14, 'Open'],
};
const HTTP_ACTIVITY: Record<string, [number, string]> = {
  CONNECT: [1, 'Connect'],
  DELETE: [2, 'Delete'],
  GET: [3, 'Get'],
  HEAD: [4, 'Head'],
  OPTIONS: [5, 'Options'],
  POST: [6, 'Post'],
  PUT: [7, 'Put'],
  TRACE: [8, 'Trace'],
};

export function toJsonl(events: AuditEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}

function splitHostPort(subject: string): { hostname: string; port?: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(subject);
  return m ? { hostname: m[1]!, port: Number(m[2]) } : { hostname: subject };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Maps one airlock event to an OCSF 1.1 event object. */
export function toOcsf(e: AuditEvent, product = { name: 'airlock', vendor_name: 'airlock', version: '0.1.0' }): Record<string, unknown> {
  const d = e.detail;
  const time = Date.parse(e.time);
  const denied = e.decision === 'deny';
  const base = {
    time,
    severity_id: denied ? 3 : 1,
    severity: denied ? 'Medium' : 'Informational',
    status_id: denied ? 2 : 1,
    status: denied ? 'Failure' : 'Success',
    message: `${e.kind} ${e.action} ${e.subject}${denied ? ' (denied)' : ''}`,
    metadata: {
      version: OCSF_VERSION,
      product,
      uid: e.hash,
      correlation_uid: e.session,
      sequence: e.seq,
      original_time: e.time,
      log_name: 'airlock-audit',
    },
    device: { hostname: hostname(), type_id: 0 },
  };
  const actor = d.pid !== undefined || d.process !== undefined ? { actor: { process: { pid: num(d.pid), name: typeof d.process === 'string' ? d.process : undefined } } } : {};
  const withType = (classUid: number, className: string, categoryUid: number, categoryName: string, activityId: number, activityName: string) => ({
    class_uid: classUid,
    class_name: className,
    category_uid: categoryUid,
    category_name: categoryName,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    type_name: `${className}: ${activityName}`,
  });

  if (e.kind === 'process') {
    const exit = e.action === 'exit';
    const argv = Array.isArray(d.argv) ? (d.argv as unknown[]).map(String) : undefined;
    return {
      ...withType(1007, 'Process Activity', 1, 'System Activity', exit ? 2 : 1, exit ? 'Terminate' : 'Launch'),
      ...base,
      action_id: denied ? 2 : 1,
      action: denied ? 'Denied' : 'Allowed',
      process: {
        pid: num(d.pid),
        cmd_line: argv?.join(' '),
        file: { path: e.subject, name: e.subject.split('/').pop(), type_id: 1 },
        parent_process: d.ppid !== undefined ? { pid: num(d.ppid) } : undefined,
        cwd: typeof d.cwd === 'string' ? d.cwd : undefined,
      },
      exit_code: num(d.exitCode),
      actor: d.ppid !== undefined ? { process: { pid: num(d.ppid) } } : { process: { name: 'airlock' } },
    };
  }
  if (e.kind === 'file') {
    const [id, name] = FILE_ACTIVITY[e.action] ?? [99, e.action];
    const sha = typeof d.sha256 === 'string' ? d.sha256 : undefined;
    return {
      ...withType(1001, 'File System Activity', 1, 'System Activity', id, name),
      ...base,
      ...actor,
      action_id: denied ? 2 : 1,
      action: denied ? 'Denied' : 'Allowed',
      file: {
        path: e.subject,
        name: e.subject.split('/').pop(),
        type_id: 1,
        size: num(d.size),
        hashes: sha ? [{ algorithm_id: 3, algorithm: 'SHA-256', value: sha }] : undefined,
      },
      file_result: typeof d.to === 'string' ? { path: d.to, name: d.to.split('/').pop(), type_id: 1 } : undefined,
      actor: (actor as { actor?: unknown }).actor ?? { process: { name: 'agent' } },
    };
  }
  if (e.kind === 'network') {
    const { hostname: host, port } = splitHostPort(e.subject);
    const dst = { hostname: host, port: num(d.port) ?? port, ip: typeof d.ip === 'string' ? d.ip : typeof d.address === 'string' ? d.address : undefined };
    const method = typeof d.method === 'string' ? d.method.toUpperCase() : undefined;
    if (method) {
      const [id, name] = HTTP_ACTIVITY[method] ?? [99, method];
      const path = typeof d.path === 'string' ? d.path : '/';
      const scheme = d.tls === true || dst.port === 443 ? 'https' : 'http';
      return {
        ...withType(4002, 'HTTP Activity', 4, 'Network Activity', id, name),
        ...base,
        action_id: denied ? 2 : 1,
        action: denied ? 'Denied' : 'Allowed',
        disposition_id: denied ? 2 : 1,
        disposition: denied ? 'Blocked' : 'Allowed',
        http_request: { http_method: method, url: { hostname: host, port: dst.port, path, scheme, url_string: `${scheme}://${host}${dst.port && dst.port !== 443 && dst.port !== 80 ? `:${dst.port}` : ''}${path}` } },
        http_response: num(d.status) !== undefined ? { code: num(d.status) } : undefined,
        dst_endpoint: dst,
        status_detail: typeof d.reason === 'string' ? d.reason : undefined,
      };
    }
    const activity: [number, string] = denied ? [5, 'Refuse'] : e.action === 'close' ? [2, 'Close'] : [1, 'Open'];
    return {
      ...withType(4001, 'Network Activity', 4, 'Network Activity', activity[0], activity[1]),
      ...base,
      ...actor,
      action_id: denied ? 2 : 1,
      action: denied ? 'Denied' : 'Allowed',
      disposition_id: denied ? 2 : 1,
      disposition: denied ? 'Blocked' : 'Allowed',
      dst_endpoint: dst,
      connection_info: { protocol_name: 'tcp', direction_id: 2, direction: 'Outbound' },
      status_detail: typeof d.reason === 'string' ? d.reason : undefined,
    };
  }
  return {
    ...withType(0, 'Base Event', 0, 'Uncategorized', 99, `${e.kind} ${e.action}`),
    ...base,
    unmapped: { kind: e.kind, action: e.action, decision: e.decision, subject: e.subject, detail: e.detail },
  };
}

export function toOcsfLines(events: AuditEvent[]): string {
  return events.map((e) => `${JSON.stringify(toOcsf(e))}\n`).join('');
}
