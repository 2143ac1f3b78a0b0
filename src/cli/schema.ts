/** `airlock schema`: print the JSON Schema of airlock.yaml (draft 2020-12) for editors and validators. */
import { writeFileSync } from 'node:fs';
import { policyJsonSchemaText } from '../policy/json-schema.js';
import { parseFlags, type Command } from './command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of airlock.yaml so editors can complete and check it.',
  usage: 'airlock schema [--output FILE]',
  help: 'Flags:\n  --output FILE, -o FILE   write the schema to FILE instead of stdout\n\nEditors: put `# yaml-language-server: $schema=PATH` at the top of airlock.yaml (airlock init does).',
  async run(argv) {
    const { values } = parseFlags(this, argv, { output: { type: 'string', short: 'o' } }, { maxPositionals: 0 });
    const text = policyJsonSchemaText();
    if (values.output) writeFileSync(values.output, text);
    else process.stdout.write(text);
    return 0;
  },
};
