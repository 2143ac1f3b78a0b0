/**
 * JSON Schema (draft 2020-12) of `airlock.yaml`, generated from the zod schema so the two never
 * drift: descriptions come from `.describe()`, every object has `additionalProperties: false`.
 * Editors use it for completion (`# yaml-language-server: $schema=...`). Checks the schema cannot
 * express (host patterns, durations, unsafe combinations) are still done by `airlock check`.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { policySchema } from './schema.js';

/** Where the committed copy lives in the package: `schema/airlock.schema.json`. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/airlock.schema.json', import.meta.url));

/** The policy JSON Schema as an object. */
export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(policySchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, title: 'airlock policy (airlock.yaml)', ...rest };
}

/** The schema as stable, pretty-printed JSON text (what `airlock schema` prints and the file holds). */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
