/** Building `AgentEntry` values: one tool-category map per agent configuration found. */
import { ACCESS_ORDER, TOOL_CATEGORIES, type Access, type AgentEntry, type CategoryAccess, type ToolCategory } from './types.js';

export type Categories = Record<ToolCategory, CategoryAccess>;

export function cat(access: Access, detail: string): CategoryAccess {
  return { access, detail };
}

/** The wider of two accesses. */
export function wider(a: Access, b: Access): Access {
  return ACCESS_ORDER.indexOf(a) >= ACCESS_ORDER.indexOf(b) ? a : b;
}

export function makeEntry(e: Omit<AgentEntry, 'canUse' | 'everythingByDefault'> & { everythingByDefault?: boolean }): AgentEntry {
  const canUse = TOOL_CATEGORIES.filter((c) => e.categories[c].access !== 'none');
  const everything = e.everythingByDefault ?? TOOL_CATEGORIES.every((c) => e.categories[c].access === 'unrestricted');
  return {
    agent: e.agent,
    name: e.name,
    scope: e.scope,
    files: e.files,
    categories: e.categories,
    canUse,
    everythingByDefault: everything,
    ...(e.mcpServers && e.mcpServers.length ? { mcpServers: e.mcpServers } : {}),
    notes: e.notes,
  };
}

/** A fenced airlock policy snippet that runs an agent contained, for fixes. */
export function airlockRunFix(agentCmd: string, extra = ''): string {
  return [
    `Run the agent contained instead: \`airlock run --policy airlock.yaml -- ${agentCmd}\` with a default-deny policy, e.g.`,
    'version: 1',
    'runtime: { isolation: gvisor }',
    'filesystem: { workspace: . }',
    'commands: { allow: [git, node, npm] }',
    'network: { allow: [registry.npmjs.org] }',
    ...(extra ? [extra] : []),
  ].join('\n');
}
