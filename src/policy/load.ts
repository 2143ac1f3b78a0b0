/**
 * Loading a policy: YAML text → document (with positions) → zod validation → semantic checks →
 * compiled Policy. Every failure is a PolicyError listing each problem as `file:line:col`, the key
 * path and a hint. Nothing else is thrown for bad input (a property test holds us to that).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { policySchema, type PolicyDocument } from './schema.js';
import { keyPath, PolicyError, type PolicyProblem } from './errors.js';
import { semanticProblems } from './semantic.js';
import { compilePolicy, type Policy } from './compile.js';

const MAX_POLICY_BYTES = 1 << 20;

/** Reads and compiles a policy file. Throws PolicyError (exit 2) on any problem. */
export function loadPolicyFile(file: string): Policy {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyError(file, [{ path: '', message: code === 'ENOENT' ? 'no such policy file' : `cannot read the policy file (${code ?? String(err)})`, hint: code === 'ENOENT' ? 'create one with `airlock init`' : undefined }]);
  }
  return loadPolicyText(text, abs, file);
}

/** Parses and compiles policy text; `abs` locates relative paths, `display` names the file in errors. */
export function loadPolicyText(text: string, abs: string, display = abs): Policy {
  const doc = parseAndValidate(text, display);
  return compilePolicy(doc, abs, createHash('sha256').update(text).digest('hex'));
}

/** Validates without compiling paths against the system; returns the typed document. */
export function parseAndValidate(text: string, display: string): PolicyDocument {
  if (typeof text !== 'string') throw new PolicyError(display, [{ path: '', message: 'policy text must be a string' }]);
  if (text.length > MAX_POLICY_BYTES) throw new PolicyError(display, [{ path: '', message: `policy file is larger than ${MAX_POLICY_BYTES} bytes` }]);
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    throw new PolicyError(display, [{ path: '', message: `cannot parse YAML: ${(err as Error).message}` }]);
  }
  const yamlErrors = [...doc.errors];
  if (yamlErrors.length) {
    throw new PolicyError(
      display,
      yamlErrors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const dup = e.code === 'DUPLICATE_KEY' || /unique/i.test(e.message);
        if (dup) {
          const path = pathAtOffset(doc, e.pos[0]);
          const name = path.length ? String(path[path.length - 1]) : '';
          const what = path[0] === 'secrets' && path.length === 2 ? 'duplicate secret' : 'duplicate key';
          return { path: keyPath(path), message: `${what}${name ? ` "${name}"` : ''}: it is already defined above`, hint: 'each key (including each secret name) may appear once; merge the two entries', line: pos.line, col: pos.col };
        }
        return { path: '', message: `invalid YAML: ${firstLine(e.message)}`, hint: 'check indentation and quoting', line: pos.line, col: pos.col };
      }),
    );
  }
  const badKey = findBadKey(doc);
  if (badKey) {
    const p = lineCounter.linePos(badKey.offset);
    throw new PolicyError(display, [{ path: keyPath(pathAtOffset(doc, badKey.offset)), message: badKey.message, hint: badKey.hint, line: p.line, col: p.col }]);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PolicyError(display, [{ path: '', message: `cannot read YAML: ${firstLine((err as Error).message)}` }]);
  }
  if (data === null || data === undefined) throw new PolicyError(display, [{ path: '', message: 'the policy is empty', hint: 'start from `airlock init`; at least `version: 1` is required' }]);
  if (typeof data !== 'object' || Array.isArray(data)) throw new PolicyError(display, [{ path: '', message: 'the policy must be a mapping of keys (version, runtime, filesystem, ...)', ...pos(doc, lineCounter, []) }]);

  const result = policySchema.safeParse(data, { reportInput: true });
  if (!result.success) throw new PolicyError(display, firstPerPath(result.error.issues.flatMap((i) => issueToProblems(i, doc, lineCounter))));
  const problems = semanticProblems(result.data).map((p) => ({ ...p, ...pos(doc, lineCounter, p.pathParts, p.atKey) }));
  if (problems.length) throw new PolicyError(display, problems.map(({ pathParts: _p, atKey: _k, ...rest }) => rest));
  return result.data;
}

function issueToProblems(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter): PolicyProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const full = [...issue.path, k];
      return { path: keyPath(full), message: `unknown key "${k}"`, hint: hintForUnknown(issue.path, k), ...pos(doc, lc, full, true) };
    });
  }
  if (issue.code === 'invalid_key') {
    // A record key (secret name, env variable name) that fails its own check: point at the key.
    const inner = (issue as unknown as { issues?: z.core.$ZodIssue[] }).issues?.[0];
    const name = String(issue.path[issue.path.length - 1] ?? '');
    return [{ path: keyPath(issue.path), message: `"${name}": ${inner?.message ?? 'not a valid name'}`, hint: 'use letters, digits and _, not starting with a digit (e.g. GITHUB_TOKEN)', ...pos(doc, lc, issue.path, true) }];
  }
  if (issue.code === 'invalid_union') {
    // Report the most specific branch failure rather than "invalid input".
    const branches = (issue as unknown as { errors: z.core.$ZodIssue[][] }).errors ?? [];
    const best = branches.sort((a, b) => depth(b) - depth(a))[0];
    if (best?.length) return best.flatMap((sub) => issueToProblems({ ...sub, path: [...issue.path, ...sub.path] } as z.core.$ZodIssue, doc, lc));
  }
  const path = issue.path;
  return [{ path: keyPath(path), message: describeIssue(issue), hint: hintFor(path), ...pos(doc, lc, path) }];
}

/** One problem per key path (a value failing two checks, e.g. `memory: 0`, is reported once). */
function firstPerPath(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => (p.path === '' ? true : seen.has(p.path) ? false : (seen.add(p.path), true)));
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const expected = issue.expected;
    const input = (issue as { input?: unknown }).input;
    const article = /^[aeiou]/.test(String(expected)) ? 'an' : 'a';
    const want = expected === 'object' ? 'a mapping' : expected === 'array' ? 'a list' : `${article} ${expected}`;
    return input === undefined ? `missing: expected ${want}` : `expected ${want}, got ${describeInput(input)}`;
  }
  if (issue.code === 'invalid_value') {
    const input = (issue as { input?: unknown }).input;
    const msg = issue.message.replace(/^Invalid (input|option): /, '');
    return input === undefined ? `missing: ${msg}` : `${msg}, got ${describeInput(input)}`;
  }
  const small = /^Too (?:small|big): expected \w+ to (be|have) (.+)$/.exec(issue.message);
  if (small) {
    const input = (issue as { input?: unknown }).input;
    return `must ${small[1]} ${small[2]!.replace('>=', '≥ ').replace('<=', '≤ ').replace(/^>/, '> ').replace(/^</, '< ')}${input !== undefined ? `, got ${describeInput(input)}` : ''}`;
  }
  return issue.message;
}

function describeInput(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return v instanceof Uint8Array ? 'binary data' : 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

const KNOWN_SECTIONS = ['version', 'runtime', 'filesystem', 'commands', 'network', 'secrets', 'env', 'review'];

function hintForUnknown(parent: readonly PropertyKey[], key: string): string {
  const known: Record<string, string[]> = {
    '': KNOWN_SECTIONS,
    runtime: ['isolation', 'limits'],
    'runtime.limits': ['wallTime', 'memory', 'pids', 'cpus', 'disk'],
    filesystem: ['workspace', 'read', 'write', 'deny'],
    commands: ['allow', 'deny'],
    network: ['allow', 'deny', 'upstreamCA'],
    env: ['pass', 'set'],
    review: ['approvals', 'labels', 'registries'],
  };
  const p = keyPath(parent);
  const list = known[p] ?? (parent[0] === 'secrets' && parent.length === 2 ? ['from', 'mint', 'inject', 'ttl', 'renew'] : parent[0] === 'secrets' && parent[2] === 'inject' ? ['host', 'header', 'format'] : parent[0] === 'network' ? ['host', 'ports', 'methods', 'paths'] : undefined);
  if (!list) return 'remove it; unknown keys are errors so that typos never weaken the policy';
  const close = list.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return close ? `did you mean "${close}"? (allowed here: ${list.join(', ')})` : `allowed here: ${list.join(', ')}`;
}

function hintFor(path: readonly PropertyKey[]): string | undefined {
  const p = keyPath(path);
  if (p === 'version') return 'write `version: 1`';
  if (/limits\.(wallTime)$/.test(p) || /\.ttl$/.test(p)) return 'durations look like 90s, 30m, 2h';
  if (/limits\.(memory|disk)$/.test(p)) return 'sizes look like 512MiB, 4GiB';
  if (/^network\.(allow|deny)\[\d+\](\.host)?$/.test(p) || /inject\.host$/.test(p)) return 'e.g. example.com, *.example.com, example.com:8443, 10.0.0.0/8';
  if (/\.from$/.test(p)) return 'e.g. from: env:GITHUB_TOKEN';
  if (p === 'runtime.isolation') return 'one of gvisor, bwrap, microvm, auto';
  return undefined;
}

function pos(doc: Document, lc: LineCounter, path: readonly PropertyKey[], keyItself = false): { line?: number; col?: number } {
  // Walk as deep as the document goes; point at the key when asked (unknown keys), else the value.
  let node: unknown = doc.contents;
  let at: [number, number, number] | undefined = (node as { range?: [number, number, number] })?.range;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown })?.value === seg || String((it.key as { value?: unknown })?.value) === String(seg));
      if (!pair) break;
      const keyRange = (pair.key as { range?: [number, number, number] })?.range;
      const valRange = (pair.value as { range?: [number, number, number] } | null)?.range;
      const last = i === path.length - 1;
      at = (last && (keyItself || (isCollection(pair.value) && !pair.value.flow)) ? keyRange : valRange ?? keyRange) ?? at;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      at = item.range ?? at;
      node = item;
    } else break;
  }
  if (!at) return {};
  const p = lc.linePos(at[0]);
  return { line: p.line, col: p.col };
}

/** The key path of the map key that starts at `offset` (for duplicate-key errors). */
function pathAtOffset(doc: Document, offset: number): PropertyKey[] {
  const path: PropertyKey[] = [];
  let node: unknown = doc.contents;
  for (let guard = 0; guard < 1000 && isCollection(node); guard++) {
    let next: unknown;
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyRange = (pair.key as { range?: [number, number, number] } | null)?.range;
        const valRange = (pair.value as { range?: [number, number, number] } | null)?.range;
        const keyName = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (keyRange && keyRange[0] === offset) return [...path, keyName];
        if (valRange && offset >= valRange[0] && offset < valRange[2]) {
          path.push(keyName);
          next = pair.value;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const r = (item as { range?: [number, number, number] } | null)?.range;
        if (next === undefined && r && offset >= r[0] && offset < r[2]) {
          path.push(i);
          next = item;
        }
      });
    }
    if (next === undefined) break;
    node = next;
  }
  return path;
}

/**
 * The first key JavaScript objects cannot hold faithfully: a collection (`? [a]: 1`) or
 * `__proto__` (which would be dropped or change the prototype instead of being checked).
 */
function findBadKey(doc: Document): { offset: number; message: string; hint: string } | undefined {
  let bad: { offset: number; message: string; hint: string } | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair)) return undefined;
      if (isCollection(pair.key)) bad = { offset: pair.key.range?.[0] ?? 0, message: 'a mapping key must be a plain word, not a list or mapping', hint: 'remove the `? ` complex key' };
      else if (isScalar(pair.key) && String(pair.key.value) === '__proto__') bad = { offset: pair.key.range?.[0] ?? 0, message: 'the key "__proto__" is not allowed', hint: 'remove it' };
      return bad ? visit.BREAK : undefined;
    },
  });
  return bad;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}
