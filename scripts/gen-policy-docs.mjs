#!/usr/bin/env node
// Regenerates docs/policy.md and schema/airlock.schema.json from the zod schema (src/policy/).
// Run after `npm run build`: node scripts/gen-policy-docs.mjs   (tests fail when these are stale)
import { writeFileSync } from 'node:fs';
import { policyJsonSchemaText, SCHEMA_FILE } from '../dist/src/policy/json-schema.js';
import { renderPolicyDocs, DOCS_FILE } from '../dist/src/policy/docs.js';

writeFileSync(SCHEMA_FILE, policyJsonSchemaText());
writeFileSync(DOCS_FILE, renderPolicyDocs());
console.log(`wrote ${SCHEMA_FILE}\nwrote ${DOCS_FILE}`);
