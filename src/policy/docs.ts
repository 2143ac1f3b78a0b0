/**
 * Generates docs/policy.md, the policy reference: the key tables come from the JSON Schema (so
 * from the zod `.describe()` texts), the prose and examples are written here. Regenerate with
 * `node scripts/gen-policy-docs.mjs` after changing the schema; a test fails when it is stale.
 */
import { fileURLToPath } from 'node:url';
import { policyJsonSchema } from './json-schema.js';
import { BUILTIN_DENY_HOME } from './builtin-deny.js';
import { MANAGED_ENV } from './semantic.js';

export const DOCS_FILE = fileURLToPath(new URL('../../../docs/policy.md', import.meta.url));

type Schema = Record<string, unknown> & {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
};

function typeOf(s: Schema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object') {
    if (s.properties) return 'mapping';
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
    return 'mapping';
  }
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'integer') return 'integer';
  return String(s.type ?? 'any');
}

function oneLine(s: string | undefined): string {
  return (s ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

/** Rows `[path, type, description]` for every key below `s`. */
function rows(s: Schema, path: string, out: [string, string, string][]): void {
  if (s.properties) {
    for (const [k, v] of Object.entries(s.properties)) {
      const p = path ? `${path}.${k}` : k;
      const req = s.required?.includes(k) ? ' (required)' : '';
      out.push([p, typeOf(v) + req, oneLine(v.description ?? v.anyOf?.find((x) => x.description)?.description)]);
      descend(v, p, out);
    }
  }
}

function descend(v: Schema, p: string, out: [string, string, string][]): void {
  if (v.properties) rows(v, p, out);
  if (v.type === 'array' && v.items) {
    const objectBranch = v.items.properties ? v.items : v.items.anyOf?.find((x) => x.properties);
    if (objectBranch) rows(objectBranch, `${p}[]`, out);
  }
  if (v.type === 'object' && !v.properties && v.additionalProperties && typeof v.additionalProperties === 'object') {
    const name = p === 'secrets' || p === 'env.set' ? '<NAME>' : '<key>';
    const ap = v.additionalProperties;
    if (ap.properties) rows(ap, `${p}.${name}`, out);
  }
}

const INTRO = `# Policy reference: \`airlock.yaml\`

An airlock policy says what one agent session may do. It is **default-deny**: a file the policy does
not expose is not visible, a program it does not allow cannot run, a host it does not list cannot be
reached, and the agent never holds a real secret. Check a policy with \`airlock check\`, read it back
in plain English with \`airlock explain\`, and start one with \`airlock init\`.

Editors complete and check the file when it starts with
\`# yaml-language-server: $schema=<path to schema/airlock.schema.json>\` (\`airlock init\` writes that
line; \`airlock schema\` prints the JSON Schema).

Rules that hold for every key:

- Unknown keys are errors (a typo never weakens a policy), and so are duplicate keys.
- Relative paths are resolved against the directory of the policy file; \`~\` is your home directory.
- Durations: \`90s\`, \`30m\`, \`2h\`, \`1d\`, \`1h30m\` (units ms, s, m, h, d; at most a year).
- Sizes: \`512MiB\`, \`4GiB\`, \`100MB\`, or a number of bytes.
- Every error names \`file:line:col\`, the key path and a hint, and \`airlock check\` exits 2:

\`\`\`
airlock.yaml:6:15: policy.network.allow[1].host: "*." is not a valid host pattern: the part after "*." is not a host name
  hint: e.g. example.com, *.example.com, example.com:8443, 10.0.0.0/8
\`\`\`

## Example

\`\`\`yaml
version: 1
runtime: { isolation: gvisor, limits: { wallTime: 2h, memory: 4GiB, pids: 512 } }
filesystem:
  workspace: .              # staged: changes reach the tree only by \`airlock apply\`
  read: [~/.gitconfig]      # extra read-only paths
  deny: [~/.ssh, ~/.aws, "**/.env"]
commands:
  allow: [git, node, npm, sh, rg]
  deny: ["git push --force*"]
network:
  allow:
    - registry.npmjs.org
    - { host: api.github.com, methods: [GET, POST], paths: ["/repos/acme/app/**"] }
secrets:
  GITHUB_TOKEN:
    from: env:GITHUB_TOKEN
    inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }
    ttl: 30m
review: { approvals: { low: 0, medium: 1, high: 2, critical: 2 } }
\`\`\`
`;

const HOSTS = `## Host patterns

| pattern | matches |
|---|---|
| \`example.com\` | that host only (not its subdomains) |
| \`*.example.com\` | any subdomain of example.com, not example.com itself; \`*\` only as the whole first label, never a whole top-level domain |
| \`example.com:8443\` | that host on port 8443 only (otherwise the rule's \`ports\`, default 443 and 80) |
| \`93.184.216.34\`, \`[2001:db8::1]:443\` | that literal address (which also lifts the private-address guard for it) |
| \`10.0.0.0/8\`, \`fd00::/8\` | an address range; ranges wider than /8 (IPv4) or /16 (IPv6) are refused as unsafe |

Host names are compared in lower case, without a trailing dot, IDNs as punycode. URLs
(\`https://...\`), user names, paths and spaces are errors. Whatever a rule says, the proxy resolves
the name once, refuses loopback, private, link-local (incl. 169.254.169.254), ULA and multicast
addresses unless the rule names that literal address, and dials exactly the address it checked.

Path globs (\`paths\`) start with \`/\`; \`*\` matches within one segment, \`**\` across segments.
Command-line patterns (\`commands.deny\`) match the argv joined by single spaces; \`*\` matches
anything. Both compile to linear-time matchers (no catastrophic backtracking on hostile input) and
allow at most 8 wildcards each.
`;

function semanticsSection(): string {
  return `## Combinations that are errors

A policy that is well-formed key by key can still be unsafe or unusable as a whole. These are errors:

- a secret injected toward a host that \`network.allow\` does not allow (it could never be used);
- a secret without a source (\`from\` or \`mint\`), or with both; \`renew\` without a \`cmd:\` source;
- \`format\` without \`header\`, or a \`format\` without \`{}\` (other than \`basic\`);
- two secrets whose names differ only in case, or a secret also set in \`env.set\`;
- a secret listed in \`env.pass\` (that would put the real value inside the sandbox);
- \`env.pass\`, \`env.set\` or a secret named like a variable airlock manages: ${[...MANAGED_ENV].map((v) => `\`${v}\``).join(', ')};
- \`filesystem.write\` of \`/\` or the whole home directory;
- \`filesystem.read\`/\`write\` of a path on the built-in deny list;
- \`network.allow\` of an address range wider than /8 (IPv4) or /16 (IPv6), e.g. \`0.0.0.0/0\`;
- a \`commands.allow\` entry that is a relative path (give a name or an absolute path);
- the key \`__proto__\`, or a list/mapping used as a key.

## Always hidden

Whatever the policy says, these stay invisible inside the sandbox (relative to your home directory),
as do \`.env\` files outside the workspace:

${BUILTIN_DENY_HOME.map((p) => `\`~/${p}\``).join(', ')}.
`;
}

const EXAMPLES = `## More examples

A Python project with Claude Code, a GitHub token limited to reading one repository's issues:

\`\`\`yaml
version: 1
runtime: { isolation: gvisor, limits: { wallTime: 1h, memory: 2GiB } }
filesystem: { workspace: . }
commands: { allow: [sh, git, python3, pip, claude, node, rg] }
network:
  allow:
    - pypi.org
    - files.pythonhosted.org
    - api.anthropic.com
    - { host: api.github.com, methods: [GET], paths: ["/repos/acme/app/issues/**"] }
secrets:
  ANTHROPIC_API_KEY: { from: env:ANTHROPIC_API_KEY, inject: { host: api.anthropic.com, header: x-api-key } }
  GITHUB_TOKEN:
    from: "cmd:gh auth token"
    inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }
    ttl: 30m
\`\`\`

A short-lived GitHub App token minted per session instead of a personal token:

\`\`\`yaml
version: 1
network: { allow: [api.github.com, github.com] }
secrets:
  GH_TOKEN:
    mint: { provider: github-app, appId: 12345, installationId: 67890, privateKey: file:~/.config/airlock/app.pem, permissions: { contents: write } }
    inject: { host: api.github.com, header: Authorization, format: "token {}" }
\`\`\`
`;

/** The whole docs/policy.md text. */
export function renderPolicyDocs(): string {
  const schema = policyJsonSchema() as Schema;
  const parts = [INTRO, '## Keys', '', oneLine(schema.description), ''];
  for (const [k, v] of Object.entries(schema.properties ?? {})) {
    if (k === '$schema') continue;
    parts.push(`### \`${k}\``, '', `${oneLine(v.description)} Type: ${typeOf(v)}${schema.required?.includes(k) ? ' (required)' : ''}.`, '');
    const out: [string, string, string][] = [];
    descend(v, k, out);
    if (out.length) {
      parts.push('| key | type | meaning |', '|---|---|---|');
      for (const [p, t, d] of out) parts.push(`| \`${p}\` | ${t} | ${d} |`);
      parts.push('');
    }
  }
  parts.push(HOSTS, semanticsSection(), EXAMPLES);
  parts.push('<!-- Generated by scripts/gen-policy-docs.mjs from src/policy/schema.ts and src/policy/docs.ts; do not edit by hand. -->', '');
  return parts.join('\n');
}
