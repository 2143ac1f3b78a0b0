/**
 * Property: whatever text it is given, `loadPolicyText` returns a Policy or throws a PolicyError
 * (exit 2, located) — never a TypeError, RangeError, stack overflow or a YAML library error.
 * Inputs: random YAML-ish text, random JSON-like values dumped to YAML, and mutations of valid
 * policies (keys dropped/renamed, types swapped, random strings in host/duration/size fields).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadPolicyText, PolicyError } from './index.js';

const RUNS = Number(process.env.AIRLOCK_PROPERTY_RUNS ?? 1000);

function loadsOrPolicyError(text: string): boolean {
  try {
    loadPolicyText(text, '/work/p/airlock.yaml', 'airlock.yaml');
    return true;
  } catch (err) {
    if (err instanceof PolicyError) {
      assert.equal(err.exitCode, 2);
      assert.ok(err.problems.length > 0, 'a PolicyError lists at least one problem');
      for (const p of err.problems) assert.equal(typeof p.message, 'string');
      return true;
    }
    throw new Error(`loader threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message} for:\n${text}`);
  }
}

const BASE = {
  version: 1,
  runtime: { isolation: 'gvisor', limits: { wallTime: '2h', memory: '4GiB', pids: 512, cpus: 2, disk: '1GiB' } },
  filesystem: { workspace: '.', read: ['~/.gitconfig'], write: ['/tmp/cache'], deny: ['~/.ssh', '**/.env'] },
  commands: { allow: ['git', 'node', 'npm'], deny: ['git push --force*'] },
  network: {
    allow: ['registry.npmjs.org', { host: 'api.github.com', ports: [443], methods: ['GET', 'POST'], paths: ['/repos/acme/**'] }],
    deny: ['uploads.github.com'],
  },
  secrets: {
    GITHUB_TOKEN: { from: 'env:GITHUB_TOKEN', inject: { host: 'api.github.com', header: 'Authorization', format: 'Bearer {}' }, ttl: '30m' },
    APP: { mint: { provider: 'github-app', appId: 1, installationId: '2', privateKey: 'file:./k.pem', permissions: { contents: 'read' } }, inject: { host: 'api.github.com' } },
  },
  env: { pass: ['TERM'], set: { CI: '1' } },
  review: { approvals: { low: 0, medium: 1, high: 2, critical: 2 }, labels: { high: ['x'] }, registries: ['registry.npmjs.org'] },
};

test('the base document of the mutation test is itself valid', () => {
  loadPolicyText(stringify(BASE), '/work/p/airlock.yaml');
});

const yamlAlphabet = fc.constantFrom(
  ...'abcxyz019 :-_,.*/[]{}?!&|>#"\'%@`~\n\t\\'.split(''),
  'version', 'network', 'allow', 'secrets', 'inject', 'host', ': ', '\n  ', '\n- ', '&a ', '*a', '!!str ', '!!binary ', '<<: ', '---\n', '? ', '"\\u0000"', '\u2028', '\uFEFF',
);

test('random YAML-ish text: loads or PolicyError', () => {
  fc.assert(
    fc.property(fc.array(yamlAlphabet, { maxLength: 80 }).map((a) => a.join('')), (text) => loadsOrPolicyError(text)),
    { numRuns: RUNS },
  );
});

test('random JSON-like values dumped to YAML, alone and under `version: 1`: loads or PolicyError', () => {
  const value = fc.jsonValue({ maxDepth: 4 });
  fc.assert(
    fc.property(value, fc.dictionary(fc.constantFrom('version', 'runtime', 'filesystem', 'commands', 'network', 'secrets', 'env', 'review', 'x', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 4 })), (v, sections) => {
      loadsOrPolicyError(stringify(v));
      loadsOrPolicyError(stringify({ version: 1, ...sections }));
      return true;
    }),
    { numRuns: RUNS },
  );
});

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Applies `f(parent, key)` at `path` in a clone of BASE. */
function mutateAt(path: Path, f: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const doc = clone(BASE) as unknown;
  if (path.length === 0) return doc;
  let parent = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  f(parent, path[path.length - 1]!);
  return doc;
}

const allPaths = paths(BASE).filter((p) => p.length > 0);
const weird = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '*', '*.', '*.com', '0.0.0.0/0', '::/0', '[::1]:0', 'a..b', 'xn--', '1h30', '9999999999999d', '1e309s', '0.0000001ms', '-1', 'NaN', 'Infinity', '18446744073709551616GiB', 'env:', 'file:', 'cmd:', 'basic', '{}', '\u0000', '/'.repeat(200), 'a'.repeat(300), 'é.example', 'ｅｘａｍｐｌｅ.com', 'a.example.com:', ':443'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

test('mutated valid policies (drop, rename, swap types, random strings in any field): loads or PolicyError', () => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), path: fc.constantFrom(...allPaths) }),
    fc.record({ op: fc.constant('rename' as const), path: fc.constantFrom(...allPaths), name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'HOST', 'Methods')) }),
    fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...allPaths), value: weird }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
      let doc: unknown = clone(BASE);
      for (const m of muts) {
        const base = doc;
        const apply = (parent: Record<string | number, unknown>, key: string | number) => {
          if (parent === null || typeof parent !== 'object') return;
          if (m.op === 'drop') {
            if (Array.isArray(parent)) parent.splice(Number(key), 1);
            else delete parent[key];
          } else if (m.op === 'rename') {
            if (Array.isArray(parent)) return;
            const v = parent[key];
            delete parent[key];
            Object.defineProperty(parent, m.name, { value: v, enumerable: true, configurable: true, writable: true });
          } else parent[key] = m.value;
        };
        // Walk the current (possibly already mutated) document; skip paths that no longer exist.
        let parent = base as Record<string | number, unknown>;
        let ok = true;
        for (const k of m.path.slice(0, -1)) {
          const next = parent?.[k];
          if (next === null || typeof next !== 'object') {
            ok = false;
            break;
          }
          parent = next as Record<string | number, unknown>;
        }
        if (ok) apply(parent, m.path[m.path.length - 1]!);
        doc = base;
      }
      return loadsOrPolicyError(stringify(doc));
    }),
    { numRuns: RUNS },
  );
  assert.ok(mutateAt(['version'], (p, k) => delete p[k]));
});

test('random strings in host, duration and size fields: loads or PolicyError, never a crash', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40, unit: 'binary' }), fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.integer()), (host, dur, size) => {
      const doc = clone(BASE) as typeof BASE & { network: { allow: unknown[] } };
      doc.network.allow.push(host, { host });
      doc.secrets.GITHUB_TOKEN.inject.host = host;
      doc.secrets.GITHUB_TOKEN.ttl = dur;
      doc.runtime.limits.wallTime = dur;
      (doc.runtime.limits as Record<string, unknown>).memory = size;
      (doc.review as Record<string, unknown>).registries = [host];
      return loadsOrPolicyError(stringify(doc));
    }),
    { numRuns: RUNS },
  );
});

test('the loader emits no process warnings on odd YAML (collection keys, binary, aliases)', () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    for (const text of ['version: 1\n? [a, b]\n: 1\n', 'version: 1\nx: !!binary aGk=\n', 'version: 1\na: &a {b: 1}\nc: *a\n', 'version: 1\n? {a: 1}\n: 2\n']) loadsOrPolicyError(text);
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});
