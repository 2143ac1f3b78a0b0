/**
 * A scripted Anthropic Messages API server on 127.0.0.1 (random port), for running the real
 * Claude Code against a model whose answers the test decides.
 *
 * `POST /v1/messages` is answered from the script: the n-th assistant turn of the conversation is
 * `script[n]`, where n is the number of assistant messages already in the request's `messages`
 * (so a retried request gets the same turn, and turn n+1 is only sent once the agent came back
 * with the tool results of turn n). Requests that are not the agent's main loop (no `tools`, e.g.
 * a title or quota probe) get a one-word text answer. Streaming (`"stream": true`, SSE) and plain
 * JSON answers are both supported; `POST /v1/messages/count_tokens` answers a count; any other
 * request gets `{}`. Every request is recorded (method, URL, headers, raw body, parsed JSON).
 *
 * Example:
 * ```ts
 * const model = await startAnthropicModel({ script: [
 *   { tools: [{ name: 'Bash', input: { command: 'ls', description: 'list' } }] },
 *   { text: 'done' },
 * ], tls: { keyPem, certPem } });
 * // ANTHROPIC_BASE_URL=model.url ... ; afterwards: model.requests, model.toolResults()
 * ```
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One assistant turn: tool calls (answered by the agent with tool_result blocks) or a final text. */
export type ScriptTurn = { tools: { name: string; input: Record<string, unknown> }[]; text?: string } | { text: string; tools?: undefined };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: Record<string, unknown>;
  /** For main-loop message requests: which script turn was answered (-1: a side request). */
  turn?: number;
  stream?: boolean;
}

export interface ToolResult {
  toolUseId: string;
  /** The tool the script asked for, found by id. */
  name?: string;
  input?: Record<string, unknown>;
  text: string;
  isError: boolean;
}

export interface AnthropicModel {
  port: number;
  /** Base URL for ANTHROPIC_BASE_URL, e.g. `https://127.0.0.1:41234`. */
  url: string;
  requests: RecordedRequest[];
  /** Requests of the agent's main loop (they carry `tools`). */
  messageRequests(): RecordedRequest[];
  /** Every tool_result the agent sent back, in order, deduplicated by tool_use id. */
  toolResults(): ToolResult[];
  /** The `tools` array Claude Code declared in its last main-loop request (names and schemas). */
  declaredTools(): { name: string; input_schema?: unknown }[];
  close(): Promise<void>;
}

export interface ModelOptions {
  script: ScriptTurn[];
  /** Serve HTTPS with this leaf (needed for airlock's key injection, which happens only inside TLS). */
  tls?: { keyPem: string; certPem: string };
  /** Model name echoed in answers. */
  model?: string;
}

type Block = Record<string, unknown>;

function toolId(turn: number, i: number): string {
  return `toolu_airlock_${String(turn).padStart(2, '0')}_${i}`;
}

/** Content blocks of a script turn, with stable tool_use ids. */
function turnBlocks(script: ScriptTurn[], n: number): { blocks: Block[]; stop: string } {
  const t = script[n];
  if (!t) return { blocks: [{ type: 'text', text: '(script exhausted)' }], stop: 'end_turn' };
  const blocks: Block[] = [];
  if (t.text !== undefined) blocks.push({ type: 'text', text: t.text });
  (t.tools ?? []).forEach((c, i) => blocks.push({ type: 'tool_use', id: toolId(n, i), name: c.name, input: c.input }));
  return { blocks, stop: t.tools?.length ? 'tool_use' : 'end_turn' };
}

function usage(): Record<string, number> {
  return { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendSse(res: ServerResponse, id: string, model: string, blocks: Block[], stop: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const ev = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usage() } });
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
      ev('content_block_delta', { index, delta: { type: 'text_delta', text: b.text } });
    } else {
      ev('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    ev('content_block_stop', { index });
  });
  ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } });
  ev('message_stop', {});
  res.end();
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (c && typeof c === 'object' && 'text' in c ? String((c as { text: unknown }).text) : '')).join('');
  return '';
}

export async function startAnthropicModel(opts: ModelOptions): Promise<AnthropicModel> {
  const model = opts.model ?? 'claude-scripted-1';
  const requests: RecordedRequest[] = [];
  let seq = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body };
      try {
        if (body) rec.json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        /* not JSON: kept raw */
      }
      requests.push(rec);
      const path = rec.url.split('?')[0];
      if (rec.method === 'POST' && path === '/v1/messages/count_tokens') return sendJson(res, 200, { input_tokens: 10 });
      if (rec.method !== 'POST' || path !== '/v1/messages' || !rec.json) return sendJson(res, 200, {});
      const messages = Array.isArray(rec.json.messages) ? (rec.json.messages as { role?: string }[]) : [];
      const mainLoop = Array.isArray(rec.json.tools) && (rec.json.tools as { name?: string }[]).some((t) => t.name === 'Bash');
      let blocks: Block[];
      let stop: string;
      if (mainLoop) {
        rec.turn = messages.filter((m) => m.role === 'assistant').length;
        ({ blocks, stop } = turnBlocks(opts.script, rec.turn));
      } else {
        rec.turn = -1;
        blocks = [{ type: 'text', text: 'ok' }];
        stop = 'end_turn';
      }
      rec.stream = rec.json.stream === true;
      const id = `msg_airlock_${++seq}`;
      if (rec.stream) return sendSse(res, id, model, blocks, stop);
      sendJson(res, 200, { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stop, stop_sequence: null, usage: usage() });
    });
  };

  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const messageRequests = (): RecordedRequest[] => requests.filter((r) => r.turn !== undefined && r.turn >= 0);
  return {
    port,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    messageRequests,
    toolResults(): ToolResult[] {
      const out = new Map<string, ToolResult>();
      for (const r of messageRequests()) {
        for (const m of (r.json!.messages as { role: string; content: unknown }[]) ?? []) {
          if (m.role !== 'user' || !Array.isArray(m.content)) continue;
          for (const b of m.content as { type?: string; tool_use_id?: string; content?: unknown; is_error?: boolean }[]) {
            if (b.type !== 'tool_result' || !b.tool_use_id || out.has(b.tool_use_id)) continue;
            const match = /^toolu_airlock_(\d+)_(\d+)$/.exec(b.tool_use_id);
            const call = match ? opts.script[Number(match[1])]?.tools?.[Number(match[2])] : undefined;
            out.set(b.tool_use_id, { toolUseId: b.tool_use_id, name: call?.name, input: call?.input, text: blockText(b.content), isError: b.is_error === true });
          }
        }
      }
      return [...out.values()];
    },
    declaredTools() {
      const last = messageRequests().at(-1);
      return (last?.json?.tools as { name: string; input_schema?: unknown }[] | undefined) ?? [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
