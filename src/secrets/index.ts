/**
 * secrets/: the agent uses credentials it never sees. Placeholders inside the sandbox, real values
 * injected in flight by the proxy toward the declared host only, a per-session CA for the TLS
 * termination that needs, TTL and revocation, minted GitHub App tokens. See docs/secrets.md.
 *
 * ```ts
 * const broker = await startSecretBroker({ policy, sessionId, audit });
 * const ca = broker.sandboxCaFiles(join(runDir, 'ca'));
 * spec.env = { ...spec.env, ...broker.env, ...ca.env }; spec.mounts.push(...ca.mounts);
 * const proxy = await startProxy({ ..., interceptor: broker.interceptor });
 * // ... on teardown:
 * await broker.close();
 * ```
 */
export { startSecretBroker, PLACEHOLDER_PREFIX, type SecretBroker, type SecretBrokerOptions, type SandboxCaFiles } from './broker.js';
export { createSessionCA, type SessionCA, type IssuedLeaf } from './x509.js';
export { hostMatches, canonicalHost } from './match.js';
export { startSecretsDoor, SANDBOX_CA_DIR } from './session-step.js';
