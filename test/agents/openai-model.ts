/**
 * A scripted OpenAI model server on 127.0.0.1 for real-agent tests (Codex CLI). It answers the
 * Responses API (`POST …/responses`, an SSE stream) with turns from a script, answers anything
 * else minimally (`GET …/models` → an empty list, the rest 404), and records every request.
 *
 * A script is a list of assistant turns. Turn N is sent once the request carries N tool outputs,
 * i.e. after the agent returned the output of turn N-1 (a retried request gets the same turn).
 * Tool calls are written for the tools the agent declared in that request: a shell command goes
 * to `exec_command` ({cmd}), `shell_command` ({command}) or `shell` ({command: argv}); a patch
 * to `apply_patch` (a freeform custom tool, or a function with {input}), else to the shell as an
 * `apply_patch` heredoc. Served over TLS when given a key and certificate, because airlock's proxy
 * injects credentials only into TLS it terminates.
 *
 * Example:
 * ```ts
 * const model = await startOpenAIModel({ script: [{ shell: 'ls' }, { message: 'done' }], tls: { key, cert } });
 * // point the agent at model.baseUrl (https://127.0.0.1:PORT/v1); afterwards read model.requests
 * ```
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Turn = { shell: string } | { patch: string } | { message: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The parsed JSON body, when it was JSON. */
  json?: ResponsesRequest;
  /** Index of the script turn that was answered (Responses requests only). */
  turn?: number;
}

/** The parts of a Responses API request this server reads. */
export interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  input?: InputItem[];
  tools?: ToolDecl[];
}

export interface InputItem {
  type?: string;
  call_id?: string;
  output?: unknown;
  name?: string;
  role?: string;
  content?: unknown;
}

export interface ToolDecl {
  type?: string;
  name?: string;
  parameters?: { properties?: Record<string, unknown> };
  tools?: ToolDecl[];
}

export interface ToolOutput {
  callId: string;
  /** The output as the agent sent it back, flattened to text. */
  text: string;
}

export interface ModelServer {
  /** `https://127.0.0.1:PORT/v1` (or http when no TLS material was given). */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  /** Tool outputs the agent returned, by call id, in order of first arrival. */
  toolOutputs(): ToolOutput[];
  /** How many Responses requests asked for each turn index. */
  turnsServed(): number[];
  close(): Promise<void>;
}

const TOOL_OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'local_shell_call_output']);

function flattenOutput(o: unknown): string {
  if (typeof o === 'string') return o;
  if (Array.isArray(o)) return o.map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : JSON.stringify(p))).join('');
  if (o && typeof o === 'object' && 'content' in o) return flattenOutput((o as { content: unknown }).content);
  return JSON.stringify(o ?? '');
}

/** Every tool declared in the request, namespaces flattened. */
export function declaredTools(req: ResponsesRequest): ToolDecl[] {
  const out: ToolDecl[] = [];
  const walk = (ts: ToolDecl[] | undefined) => {
    for (const t of ts ?? []) {
      if (t.type === 'namespace') walk(t.tools);
      else out.push(t);
    }
  };
  walk(req.tools);
  for (const item of req.input ?? []) if (item.type === 'additional_tools') walk((item as { tools?: ToolDecl[] }).tools);
  return out;
}

/** The output item for a turn, shaped for the tools the agent declared. */
export function turnItem(turn: Turn, req: ResponsesRequest, n: number): Record<string, unknown> {
  const callId = `call_scripted_${n}`;
  if ('message' in turn) {
    return { type: 'message', id: `msg_scripted_${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: turn.message, annotations: [] }] };
  }
  const tools = declaredTools(req);
  const fn = (name: string) => tools.find((t) => t.type === 'function' && t.name === name);
  const shellCall = (cmd: string): Record<string, unknown> => {
    const exec = fn('exec_command');
    if (exec) {
      // The longest wait the tool allows, so a slow command on a loaded machine still returns its output in this turn.
      const args = exec.parameters?.properties?.yield_time_ms ? { cmd, yield_time_ms: 30_000 } : { cmd };
      return { type: 'function_call', id: `fc_scripted_${n}`, call_id: callId, name: 'exec_command', arguments: JSON.stringify(args) };
    }
    if (fn('shell_command')) return { type: 'function_call', id: `fc_scripted_${n}`, call_id: callId, name: 'shell_command', arguments: JSON.stringify({ command: cmd }) };
    if (fn('shell')) return { type: 'function_call', id: `fc_scripted_${n}`, call_id: callId, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', cmd] }) };
    throw new Error(`scripted model: the agent declared no shell tool (declared: ${tools.map((t) => t.name).join(', ')})`);
  };
  if ('shell' in turn) return shellCall(turn.shell);
  const custom = tools.find((t) => t.type === 'custom' && t.name === 'apply_patch');
  if (custom) return { type: 'custom_tool_call', id: `ctc_scripted_${n}`, call_id: callId, name: 'apply_patch', input: turn.patch };
  if (fn('apply_patch')) return { type: 'function_call', id: `fc_scripted_${n}`, call_id: callId, name: 'apply_patch', arguments: JSON.stringify({ input: turn.patch }) };
  return shellCall(`apply_patch <<'AIRLOCK_PATCH'\n${turn.patch}\nAIRLOCK_PATCH`);
}

function sse(res: ServerResponse, event: Record<string, unknown>): void {
  res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
}

export async function startOpenAIModel(opts: { script: Turn[]; tls?: { key: string; cert: string } }): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  const served: number[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const rec: RecordedRequest = { method: req.method ?? '', path, headers: { ...req.headers }, body };
    requests.push(rec);
    if (req.method === 'POST' && /\/responses$/.test(path)) {
      let json: ResponsesRequest;
      try {
        json = JSON.parse(body) as ResponsesRequest;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
        return;
      }
      rec.json = json;
      const n = (json.input ?? []).filter((i) => TOOL_OUTPUT_TYPES.has(i.type ?? '')).length;
      rec.turn = n;
      served[n] = (served[n] ?? 0) + 1;
      const turn: Turn = opts.script[n] ?? { message: 'scripted model: the script is over' };
      let item: Record<string, unknown>;
      try {
        item = turnItem(turn, json, n);
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (e as Error).message, type: 'invalid_request_error' } }));
        return;
      }
      const id = `resp_scripted_${requests.length}`;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      sse(res, { type: 'response.created', response: { id, object: 'response', status: 'in_progress', model: json.model ?? 'scripted' } });
      sse(res, { type: 'response.output_item.added', output_index: 0, item });
      sse(res, { type: 'response.output_item.done', output_index: 0, item });
      sse(res, {
        type: 'response.completed',
        response: { id, object: 'response', status: 'completed', model: json.model ?? 'scripted', output: [item], usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 } },
      });
      res.end();
      return;
    }
    if (req.method === 'GET' && /\/models$/.test(path)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [], models: [] }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `scripted model: no route for ${req.method} ${path}`, type: 'not_found' } }));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1`,
    port,
    requests,
    turnsServed: () => [...served].map((x) => x ?? 0),
    toolOutputs: () => {
      const seen = new Map<string, string>();
      for (const r of requests) for (const i of r.json?.input ?? []) if (TOOL_OUTPUT_TYPES.has(i.type ?? '') && i.call_id && !seen.has(i.call_id)) seen.set(i.call_id, flattenOutput(i.output));
      return [...seen].map(([callId, text]) => ({ callId, text }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
