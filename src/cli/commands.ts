/** The command registry, in the order `airlock --help` lists them. One file per command. */
import type { Command } from './command.js';
import { initCommand } from './init.js';
import { checkCommand } from './check.js';
import { explainCommand } from './explain.js';
import { schemaCommand } from './schema.js';
import { doctorCommand } from './doctor.js';
import { runCommand } from './run.js';
import { diffCommand } from './diff.js';
import { applyCommand } from './apply.js';
import { discardCommand } from './discard.js';
import { logCommand } from './log.js';
import { attestCommand } from './attest.js';
import { policyCommand } from './policy.js';
import { scoreCommand } from './score.js';
import { auditCommand } from './audit.js';

export const commands: Command[] = [
  initCommand,
  checkCommand,
  explainCommand,
  schemaCommand,
  doctorCommand,
  runCommand,
  diffCommand,
  applyCommand,
  discardCommand,
  logCommand,
  attestCommand,
  policyCommand,
  scoreCommand,
  auditCommand,
];
