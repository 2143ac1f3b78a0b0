/** Policy errors: `file:line:col: key.path: message` plus a hint; exit code 2. */
import { AirlockError } from '../util/errors.js';

export interface PolicyProblem {
  /** Key path, e.g. `network.allow[2].host`. Empty for document-level problems. */
  path: string;
  message: string;
  hint?: string;
  line?: number;
  col?: number;
}

export class PolicyError extends AirlockError {
  constructor(
    readonly file: string,
    readonly problems: PolicyProblem[],
  ) {
    super('policy-invalid', problems.map((p) => formatProblem(file, p)).join('\n'), undefined, 2);
  }
}

export function formatProblem(file: string, p: PolicyProblem): string {
  const where = p.line ? `${file}:${p.line}:${p.col ?? 1}` : file;
  const key = p.path ? `policy.${p.path}: ` : '';
  return `${where}: ${key}${p.message}${p.hint ? `\n  hint: ${p.hint}` : ''}`;
}

/** `['network','allow',2,'host']` → `network.allow[2].host`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}
