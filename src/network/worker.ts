/**
 * Worker-thread entry of the proxy (see index.ts for why a worker). Receives its options as
 * `workerData`, runs a ProxyCore, posts every audit event to the parent, and answers `close`.
 * Messages to the parent: {type:'ready', port?} | {type:'event', event} | {type:'fatal', message}
 * | {type:'closed'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EventInput } from '../audit/types.js';
import type { Interceptor } from './interceptor.js';
import { ProxyCore } from './server.js';
import type { WorkerInit } from './index.js';

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  let interceptor: Interceptor | undefined;
  if (init.interceptorModule) {
    const mod = (await import(init.interceptorModule.url)) as Record<string, (o: unknown) => Interceptor | Promise<Interceptor>>;
    const factory = mod[init.interceptorModule.exportName];
    if (typeof factory !== 'function') throw new Error(`${init.interceptorModule.url} does not export ${init.interceptorModule.exportName}()`);
    interceptor = await factory(init.interceptorModule.options);
  }
  const core = new ProxyCore({
    network: init.network,
    emit: (event: EventInput) => port.postMessage({ type: 'event', event }),
    onServerError: (err: Error) =>
      port.postMessage({ type: 'event', event: { kind: 'session', action: 'error', decision: 'info', subject: 'network-proxy', detail: { error: `egress proxy listener error: ${err.message}` } } }),
    interceptor,
    upstreamCA: init.upstreamCA,
    maxHeaderSize: init.maxHeaderSize,
  });
  port.on('message', (m: { type: string }) => {
    if (m.type === 'close') void core.close().then(() => port.postMessage({ type: 'closed' }));
  });
  if (init.socketPath) await core.listenUnix(init.socketPath);
  const tcp = init.tcpPort !== undefined ? await core.listenTcp(init.tcpPort) : undefined;
  port.postMessage({ type: 'ready', port: tcp });
}

main().catch((err: Error) => {
  parentPort?.postMessage({ type: 'fatal', message: err.message, code: (err as NodeJS.ErrnoException).code });
  process.exit(1);
});
