/**
 * The command registry, in the order `airlock --help` lists them. One file per command, loaded
 * only when it runs: `airlock check` must not pay for the sandbox, proxy and SQLite modules.
 * Each summary here must equal the command's own (a test holds them together).
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'init', summary: 'Write a starter airlock.yaml for this repository (detects npm/pip/cargo/go; agent presets).', load: async () => (await import('./init.js')).initCommand },
  { name: 'check', summary: 'Validate a policy file (errors name file:line:col and the key path).', load: async () => (await import('./check.js')).checkCommand },
  { name: 'explain', summary: 'Explain a policy in plain English: what the agent may read, write, run, reach, and which secrets it gets.', load: async () => (await import('./explain.js')).explainCommand },
  { name: 'schema', summary: 'Print the JSON Schema of airlock.yaml so editors can complete and check it.', load: async () => (await import('./schema.js')).schemaCommand },
  { name: 'doctor', summary: 'Check which isolation backends work on this host and pick the strongest default.', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'run', summary: 'Run a command inside the sandbox under the policy.', load: async () => (await import('./run.js')).runCommand },
  { name: 'diff', summary: 'Show a session’s staged changes as a unified diff.', load: async () => (await import('./diff.js')).diffCommand },
  { name: 'apply', summary: 'Write a session’s staged changes to the tree (optionally commit with an attestation).', load: async () => (await import('./apply.js')).applyCommand },
  { name: 'discard', summary: 'Throw away a session’s staged changes.', load: async () => (await import('./discard.js')).discardCommand },
  { name: 'log', summary: 'Query and verify the audit trail: log list | show | verify | export.', load: async () => (await import('./log.js')).logCommand },
  { name: 'attest', summary: 'Verify the session attestation attached to a commit.', load: async () => (await import('./attest.js')).attestCommand },
  { name: 'policy', summary: 'Policy tools: policy suggest SESSION... prints the tightest policy that covers those sessions.', load: async () => (await import('./policy.js')).policyCommand },
  { name: 'score', summary: 'Score a pull request: risk level and findings from the diff and the session evidence.', load: async () => (await import('./score.js')).scoreCommand },
  { name: 'audit', summary: 'Posture audit: what the agent setup can reach (fs, shell, network, secrets) and what to fix.', load: async () => (await import('./audit.js')).auditCommand },
];
