/** Policy module: load, validate and compile `airlock.yaml`. Touches nothing but the policy file. */
export { loadPolicyFile, loadPolicyText, parseAndValidate } from './load.js';
export { PolicyError, formatProblem, type PolicyProblem } from './errors.js';
export { policySchema, type PolicyDocument, type RiskLevel } from './schema.js';
export { compilePolicy, resolvePath, pathGlobToRegExp, argvPatternToRegExp, compileNetworkRule, DEFAULT_APPROVALS } from './compile.js';
export type { Policy, NetworkRule, SecretSpec, SecretSource, GithubAppMint, ArgvPattern, Isolation } from './compile.js';
export { parseHostPattern, normalizeHostName, type HostPattern } from './host-pattern.js';
export { parseDuration, parseSize, formatDuration, formatSize } from './units.js';
export { BUILTIN_DENY_HOME, DOTENV_PATTERN } from './builtin-deny.js';
