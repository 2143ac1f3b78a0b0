/**
 * The seam between the egress proxy (network/) and the secrets broker (secrets/). The proxy
 * owns sockets, policy matching and the address guard; the broker owns placeholders, TLS
 * termination and injection. The proxy asks the interceptor at two points:
 *
 * - for every plain-HTTP request and every TLS-terminated request: `checkRequest` may refuse it
 *   (placeholder going to the wrong host, expired placeholder) or rewrite its headers (injection);
 * - for every allowed CONNECT: `wantsTermination(host, port)` — if true the proxy hands the client
 *   socket to `terminate`, which speaks TLS to the client with a leaf for `host` and calls back
 *   into the proxy (`forward`) for each decrypted request, so policy (methods/paths) still applies.
 */
import type { Duplex } from 'node:stream';

export interface RequestView {
  /** The target host (normalised) and port the proxy will dial. */
  host: string;
  port: number;
  method: string;
  /** Path and query, e.g. `/repos/acme/app?x=1`. */
  path: string;
  /** Raw header pairs as received (name, value). */
  headers: [string, string][];
  /** true when the request arrived inside a TLS session the proxy terminated. */
  tls: boolean;
}

export type InterceptDecision =
  | { action: 'forward'; headers: [string, string][] }
  | { action: 'deny'; reason: string; status?: number };

export interface Interceptor {
  /** Decide on one request; may rewrite headers. Must be fast and never throw. */
  checkRequest(req: RequestView): InterceptDecision;
  /** Should CONNECT to this host:port be TLS-terminated (injection or method/path rules)? */
  wantsTermination(host: string, port: number): boolean;
  /**
   * Take over a client socket after the proxy answered `200 Connection Established` to CONNECT
   * host:port. `forward` is called for every decrypted request with the proxy's own policy and
   * upstream logic (re-encrypting to the real host).
   */
  terminate(client: Duplex, target: { host: string; port: number }, forward: TerminatedForward): void;
}

/** The proxy's handler for one decrypted request inside a terminated TLS session. */
export type TerminatedForward = (
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  target: { host: string; port: number },
) => void;
