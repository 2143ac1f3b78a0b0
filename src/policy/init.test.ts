import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadPolicyText } from './index.js';
import { AGENTS, detectEcosystems, renderStarterPolicy, type AgentName, type Ecosystem } from './init.js';

test('ecosystems are detected from their marker files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-init-'));
  try {
    assert.deepEqual(detectEcosystems(dir), []);
    for (const f of ['package.json', 'pyproject.toml', 'Cargo.toml', 'go.mod']) writeFileSync(join(dir, f), '');
    assert.deepEqual(detectEcosystems(dir), ['npm', 'python', 'cargo', 'go']);
    rmSync(join(dir, 'pyproject.toml'));
    writeFileSync(join(dir, 'setup.py'), '');
    assert.ok(detectEcosystems(dir).includes('python'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const allEcosystems: Ecosystem[][] = [[], ['npm'], ['python'], ['cargo'], ['go'], ['npm', 'python', 'cargo', 'go']];

test('every agent preset with every ecosystem mix produces a policy that passes check', () => {
  for (const agent of [undefined, ...AGENTS] as (AgentName | undefined)[]) {
    for (const ecosystems of allEcosystems) {
      const text = renderStarterPolicy({ agent, ecosystems, schemaRef: '/x/schema/airlock.schema.json' });
      assert.match(text, /^# yaml-language-server: \$schema=\/x\/schema\/airlock\.schema\.json\n/);
      const p = loadPolicyText(text, '/repo/airlock.yaml');
      assert.equal(p.filesystem.workspace, '/repo');
      assert.ok(p.commands.allow.includes('git'));
      assert.equal(parseDocument(text).errors.length, 0);
    }
  }
});

test('registries and tools follow the detected ecosystems', () => {
  const hosts = (eco: Ecosystem[]) => loadPolicyText(renderStarterPolicy({ ecosystems: eco }), '/r/airlock.yaml').network.allow.map((r) => r.pattern.text);
  assert.deepEqual(hosts(['npm']), ['registry.npmjs.org']);
  assert.deepEqual(hosts(['python']), ['pypi.org', 'files.pythonhosted.org']);
  assert.deepEqual(hosts(['cargo']), ['crates.io', 'static.crates.io', 'index.crates.io']);
  assert.deepEqual(hosts(['go']), ['proxy.golang.org', 'sum.golang.org']);
  assert.deepEqual(hosts([]), []);
  const p = loadPolicyText(renderStarterPolicy({ ecosystems: ['cargo', 'go'] }), '/r/airlock.yaml');
  for (const c of ['cargo', 'rustc', 'go']) assert.ok(p.commands.allow.includes(c), c);
  assert.ok(!p.commands.allow.includes('npm'));
  assert.deepEqual(p.review.registries.map((r) => r.text), ['crates.io', 'static.crates.io', 'index.crates.io', 'proxy.golang.org', 'sum.golang.org']);
});

test('agent presets: API host allowed and the key injected with the right header', () => {
  const secret = (agent: AgentName, name: string) => {
    const p = loadPolicyText(renderStarterPolicy({ agent, ecosystems: [] }), '/r/airlock.yaml');
    const s = p.secrets.find((x) => x.name === name)!;
    assert.ok(s, `${agent}: ${name}`);
    assert.ok(p.network.allow.some((r) => r.pattern.text === s.inject.host.text), `${agent}: ${s.inject.host.text} allowed`);
    return { host: s.inject.host.text, header: s.inject.header, format: s.inject.format, source: s.source, commands: p.commands.allow };
  };
  const claude = secret('claude', 'ANTHROPIC_API_KEY');
  assert.deepEqual([claude.host, claude.header, claude.format], ['api.anthropic.com', 'x-api-key', undefined]);
  assert.deepEqual(claude.source, { kind: 'env', name: 'ANTHROPIC_API_KEY' });
  assert.ok(claude.commands.includes('claude'));
  const codex = secret('codex', 'CODEX_API_KEY');
  assert.deepEqual([codex.host, codex.header, codex.format], ['api.openai.com', 'Authorization', 'Bearer {}']);
  assert.deepEqual(codex.source, { kind: 'env', name: 'CODEX_API_KEY' });
  assert.ok(codex.commands.includes('codex'));
  const gemini = secret('gemini', 'GEMINI_API_KEY');
  assert.deepEqual([gemini.host, gemini.header], ['generativelanguage.googleapis.com', 'x-goog-api-key']);
  assert.ok(gemini.commands.includes('gemini'));
  const aiderA = secret('aider', 'ANTHROPIC_API_KEY');
  const aiderO = secret('aider', 'OPENAI_API_KEY');
  assert.equal(aiderA.host, 'api.anthropic.com');
  assert.equal(aiderO.host, 'api.openai.com');
  assert.ok(aiderA.commands.includes('aider'));
});
