import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import { policyJsonSchema, policyJsonSchemaText, SCHEMA_FILE } from './json-schema.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/policies');
type AjvClass = typeof Ajv2020Module.default;
const Ajv2020: AjvClass = (Ajv2020Module as unknown as { default: AjvClass }).default;

function compile() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, formats: { uri: true } });
  return ajv.compile(policyJsonSchema());
}

test('schema/airlock.schema.json is up to date (regenerate: node scripts/gen-policy-docs.mjs)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), policyJsonSchemaText());
});

test('the schema is draft 2020-12, closed objects, and ajv compiles it in strict mode', () => {
  const s = policyJsonSchema();
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(s.additionalProperties, false);
  compile();
});

test('every property in the schema has a description', () => {
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.properties) {
      for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
        if (typeof v.description !== 'string' || !v.description) missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
    }
    for (const key of ['items', 'additionalProperties', 'propertyNames']) if (n[key] && typeof n[key] === 'object') walk(n[key], `${path}[]`);
    for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[key])) (n[key] as unknown[]).forEach((x) => walk(x, path));
  };
  walk(policyJsonSchema(), 'policy');
  assert.deepEqual(missing, []);
});

test('the schema accepts every valid fixture', () => {
  const validate = compile();
  for (const f of readdirSync(join(fixtures, 'valid'))) {
    const doc = parse(readFileSync(join(fixtures, 'valid', f), 'utf8'));
    assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`);
  }
});

test('the schema rejects the structurally invalid fixtures (the ones JSON Schema can express)', () => {
  const validate = compile();
  for (const f of ['02-version-wrong-type.yaml', '03-unknown-top-level-key.yaml', '04-unknown-nested-key.yaml', '16-unknown-isolation.yaml', '21-pids-wrong-type.yaml', '22-bad-secret-source.yaml', '24-not-a-mapping.yaml', '26-missing-version.yaml']) {
    const doc = parse(readFileSync(join(fixtures, 'invalid', f), 'utf8'));
    assert.equal(validate(doc), false, f);
  }
});
