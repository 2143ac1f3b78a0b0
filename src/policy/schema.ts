/**
 * The `airlock.yaml` schema. Every field has a `.describe()` text: it is the policy reference, it
 * feeds `airlock schema` (JSON Schema for editor completion) and the docs. Objects are strict:
 * an unknown key is an error, never silently ignored. This schema validates the *document*
 * (strings such as `30m` or `*.example.com`); `compile.ts` turns it into the resolved Policy.
 *
 * Example:
 * ```yaml
 * version: 1
 * runtime: { isolation: gvisor, limits: { wallTime: 2h, memory: 4GiB, pids: 512 } }
 * filesystem: { workspace: ., read: [~/.gitconfig], deny: [~/.ssh] }
 * commands: { allow: [git, node, npm, sh], deny: ["git push --force*"] }
 * network: { allow: [registry.npmjs.org, { host: api.github.com, methods: [GET] }] }
 * secrets:
 *   GITHUB_TOKEN: { from: env:GITHUB_TOKEN, inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }, ttl: 30m }
 * review: { approvals: { low: 0, medium: 1, high: 2, critical: 2 } }
 * ```
 */
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';
import { parseHostPattern } from './host-pattern.js';
import { countWildcards, MAX_GLOB_WILDCARDS } from './glob.js';

const duration = z
  .string()
  .describe('A duration such as `90s`, `30m`, `2h`, `1d` (units: ms, s, m, h, d).')
  .superRefine((v, ctx) => {
    const r = parseDuration(v);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });

const size = z
  .union([z.string(), z.number().int().positive()])
  .describe('A size such as `512MiB`, `4GiB`, `100MB` or a number of bytes.')
  .superRefine((v, ctx) => {
    const r = parseSize(v);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });

const hostPattern = z
  .string()
  .describe('`example.com`, `*.example.com` (subdomains only), `host:port`, an IP literal, `[v6]:port` or a CIDR such as `10.0.0.0/8`.')
  .superRefine((v, ctx) => {
    const r = parseHostPattern(v);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });

const httpMethod = z
  .string()
  .regex(/^[A-Za-z]+$/, 'an HTTP method is letters only, e.g. GET')
  .describe('An HTTP method, e.g. `GET`; matched case-insensitively.');

const pathGlob = z
  .string()
  .regex(/^\//, 'a path pattern starts with "/"')
  .max(1024)
  .refine((v) => countWildcards(v, 'path') <= MAX_GLOB_WILDCARDS, `at most ${MAX_GLOB_WILDCARDS} wildcards in a path pattern`)
  .describe('A URL path glob: `*` matches within one segment, `**` across segments, e.g. `/repos/acme/**`.');

const networkRule = z.union([
  hostPattern,
  z
    .object({
      host: hostPattern,
      ports: z.array(z.number().int().min(1).max(65535)).min(1).optional().describe('Ports the rule covers; default 443 and 80 (or the port in `host`).'),
      methods: z.array(httpMethod).min(1).optional().describe('HTTP methods the rule covers; default all. Enforced for plain HTTP and TLS-terminated hosts.'),
      paths: z.array(pathGlob).min(1).optional().describe('URL path globs the rule covers; default all. Enforced for plain HTTP and TLS-terminated hosts.'),
    })
    .strict()
    .describe('A host with optional port, method and path restrictions.'),
]);

const secretSource = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|cmd:.+)$/, 'a secret source is `env:NAME`, `file:PATH` or `cmd:COMMAND`')
  .describe('Where the real value comes from, read on the host at session start: `env:NAME`, `file:PATH` or `cmd:COMMAND` (its stdout, trimmed).');

const injectRule = z
  .object({
    host: hostPattern.describe('The only host (or host pattern) the real value may be sent to.'),
    header: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid HTTP header name')
      .optional()
      .describe('Header to set on requests to `host`, e.g. `Authorization`. Without it the placeholder is replaced wherever it appears in request headers.'),
    format: z
      .string()
      .optional()
      .describe('How the value is written into `header`: `{}` stands for the value, e.g. `Bearer {}`; `basic` for HTTP basic auth with the value as `user:password`. Default `{}`.'),
  })
  .strict()
  .describe('Where and how the proxy injects the real value in flight.');

const mintGithubApp = z
  .object({
    provider: z.literal('github-app').describe('Mint a GitHub App installation token per session, revoked at session end.'),
    appId: z.union([z.string(), z.number().int()]).describe('The GitHub App id (the JWT issuer).'),
    installationId: z.union([z.string(), z.number().int()]).describe('The installation the token is minted for.'),
    privateKey: secretSource.describe('The App private key (PEM), as a source: `file:PATH`, `env:NAME` or `cmd:COMMAND`.'),
    repositories: z.array(z.string().min(1)).optional().describe('Repository names the token is limited to.'),
    permissions: z.record(z.string(), z.enum(['read', 'write', 'admin'])).optional().describe('Permissions requested for the token, e.g. `{ contents: read }`.'),
    apiUrl: z.string().url().optional().describe('GitHub API base URL; default `https://api.github.com`.'),
  })
  .strict()
  .describe('A minted, short-lived, scoped credential.');

const secret = z
  .object({
    from: secretSource.optional(),
    mint: mintGithubApp.optional(),
    inject: injectRule,
    ttl: duration.optional().describe('How long the placeholder stays valid; default: the session. After it, requests carrying it are refused.'),
    renew: z.boolean().optional().describe('Re-run a `cmd:` source when its value expires instead of refusing.'),
  })
  .strict()
  .describe('A secret the agent may use but never see: the sandbox holds a placeholder; the proxy injects the value toward `inject.host` only.');

const level = z.enum(['low', 'medium', 'high', 'critical']);

export const policySchema = z
  .object({
    $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors.'),
    version: z.literal(1).describe('Policy format version. Always 1.'),
    runtime: z
      .object({
        isolation: z
          .enum(['gvisor', 'bwrap', 'microvm', 'auto'])
          .optional()
          .describe('Isolation backend: `gvisor` (default, syscall-level), `bwrap` (namespaces + seccomp, shared kernel), `microvm` (needs /dev/kvm), `auto` (strongest available).'),
        limits: z
          .object({
            wallTime: duration.optional().describe('Wall-clock limit for the session; the sandbox is torn down when hit.'),
            memory: size.optional().describe('Memory limit for the whole sandbox.'),
            pids: z.number().int().min(1).max(1_000_000).optional().describe('Maximum number of processes/threads.'),
            cpus: z.number().positive().max(1024).optional().describe('CPU quota, in cores (e.g. 1.5).'),
            disk: size.optional().describe('Size cap of the session\'s writable layers (staged workspace, home, /tmp).'),
          })
          .strict()
          .optional()
          .describe('Resource limits, enforced by cgroups or runsc.'),
      })
      .strict()
      .optional()
      .describe('How the agent is isolated.'),
    filesystem: z
      .object({
        workspace: z.string().min(1).optional().describe('The repository the agent works on, relative to this file; staged copy-on-write. Default: the current directory.'),
        read: z.array(z.string().min(1)).optional().describe('Extra host paths visible read-only.'),
        write: z.array(z.string().min(1)).optional().describe('Extra host paths writable directly (not staged). Use sparingly.'),
        deny: z.array(z.string().min(1)).optional().describe('Paths or globs hidden from the agent (added to the built-in deny list: ~/.ssh, ~/.aws, ...).'),
      })
      .strict()
      .optional()
      .describe('What the agent may read and write.'),
    commands: z
      .object({
        allow: z.array(z.string().min(1)).optional().describe('Executables the agent may run, by name (looked up on PATH) or absolute path. Nothing else is executable.'),
        deny: z.array(z.string().min(1).max(1024).refine((v) => countWildcards(v, 'argv') <= MAX_GLOB_WILDCARDS, `at most ${MAX_GLOB_WILDCARDS} wildcards in an argv pattern`)).optional().describe('argv patterns refused even for allowed executables, e.g. `git push --force*` (`*` matches any characters).'),
      })
      .strict()
      .optional()
      .describe('Which programs the agent may execute.'),
    network: z
      .object({
        allow: z.array(networkRule).optional().describe('Endpoints the agent may reach through the proxy. Anything else is denied.'),
        deny: z.array(networkRule).optional().describe('Endpoints always refused; deny wins over allow.'),
        upstreamCA: z.string().min(1).optional().describe('Extra CA bundle (PEM) trusted when the proxy connects to upstream hosts, e.g. a private registry.'),
      })
      .strict()
      .optional()
      .describe('Egress through the per-session proxy. Default: no network.'),
    secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a secret name is an environment variable name'), secret).optional().describe('Secrets by the environment variable name the agent sees (holding a placeholder).'),
    env: z
      .object({
        pass: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name')).optional().describe('Host environment variables passed into the sandbox unchanged.'),
        set: z
          .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'),
            z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)).describe('The value; numbers and booleans are written as text (`CI: 1` sets CI=1).'),
          )
          .optional()
          .describe('Variables set in the sandbox.'),
      })
      .strict()
      .optional()
      .describe('The sandbox environment: scrubbed to a small allowlist plus these.'),
    review: z
      .object({
        approvals: z.partialRecord(level, z.number().int().min(0).max(10)).optional().describe('Required approvals per risk level.'),
        labels: z.partialRecord(level, z.array(z.string())).optional().describe('Labels to add per risk level.'),
        registries: z.array(hostPattern).optional().describe('Hosts considered expected package registries when scoring sessions.'),
      })
      .strict()
      .optional()
      .describe('Graduated review pressure for `airlock score`.'),
  })
  .strict()
  .describe('airlock policy (airlock.yaml): a declared, default-deny policy for one agent session.');

export type PolicyDocument = z.infer<typeof policySchema>;
export type NetworkRuleDocument = z.infer<typeof networkRule>;
export type SecretDocument = z.infer<typeof secret>;
export type RiskLevel = z.infer<typeof level>;
