/**
 * Aider: `.aider.conf.yml` in the repository and in the home. Audited keys: `yes-always` (answer
 * yes to every confirmation, shell commands included), `auto-commits` (default on),
 * `auto-test`/`test-cmd` and `auto-lint`/`lint-cmd` (commands run after every edit),
 * `suggest-shell-commands`, and inline credentials (`openai-api-key`, `anthropic-api-key`,
 * `api-key: [provider=key]`, `set-env: [NAME=value]`).
 */
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { AuditContext } from '../context.js';
import { asStringArray, isRecord } from '../jsonc.js';
import { lineOf } from '../fsread.js';
import { cat, makeEntry, airlockRunFix } from '../agent-entry.js';
import { findTokens, isSecretName, kindFromName, looksLikeSecretValue } from '../secrets.js';

export function scanAider(ctx: AuditContext): void {
  for (const scope of ['repo', 'home'] as const) {
    const file = join(scope === 'repo' ? ctx.repo : ctx.home, '.aider.conf.yml');
    const r = ctx.read(file);
    if (!r.ok) continue;
    const doc = parseDocument(r.text, { prettyErrors: false });
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const line = r.text.slice(0, e.pos[0]).split('\n').length;
      ctx.malformed(file, 'Aider config', `invalid YAML (${e.code})`, line);
      continue;
    }
    let v: unknown;
    try {
      v = doc.toJS({ maxAliasCount: 50 });
    } catch {
      ctx.malformed(file, 'Aider config', 'cannot be read as YAML data');
      continue;
    }
    if (v === null || v === undefined) v = {};
    if (!isRecord(v)) {
      ctx.malformed(file, 'Aider config', 'the top level is not a mapping');
      continue;
    }
    const notes: string[] = [];
    const yes = v['yes-always'] === true || v.yes === true;
    const autoCommits = v['auto-commits'] !== false;
    if (autoCommits) notes.push('auto-commits: every edit is committed without review (default on)');
    for (const [flag, cmdKey] of [['auto-test', 'test-cmd'], ['auto-lint', 'lint-cmd']] as const) {
      const on = flag === 'auto-lint' ? v[flag] !== false : v[flag] === true;
      const cmds = asStringArray(v[cmdKey]);
      if (on && cmds.length) {
        notes.push(`${flag}: runs \`${ctx.redactor.quote(cmds.join('; '))}\` after every edit`);
        for (const c of cmds) {
          const b = c.trim().split(/\s+/)[0];
          if (b && /^[A-Za-z0-9_.-]+$/.test(b)) ctx.hints.commands.add(b);
        }
      }
    }
    if (yes) {
      ctx.add({
        id: 'aider.yes-always',
        severity: 'high',
        category: 'agent-config',
        title: 'Aider answers yes to every confirmation, including running shell commands',
        evidence: `${ctx.display(file)}: yes-always: true`,
        asi: ['ASI02', 'ASI05'],
        fix: `Remove yes-always (and set suggest-shell-commands: false if commands are not needed). ${airlockRunFix('aider')}`,
        file,
        line: lineOf(r.text, /^yes(-always)?\s*:/m),
      });
    }
    // Inline credentials.
    const inline: { key: string; value: string }[] = [];
    for (const [k, val] of Object.entries(v)) {
      if (typeof val === 'string' && /api-key|api_key|token|secret|password/i.test(k) && looksLikeSecretValue(val)) inline.push({ key: k, value: val });
    }
    for (const listKey of ['api-key', 'set-env']) {
      for (const item of asStringArray(v[listKey])) {
        const eq = item.indexOf('=');
        if (eq < 0) continue;
        const name = item.slice(0, eq);
        const val = item.slice(eq + 1);
        if (looksLikeSecretValue(val) && (listKey === 'api-key' || isSecretName(name) || findTokens(val).length)) inline.push({ key: `${listKey} ${name}`, value: val });
      }
    }
    for (const { key, value } of inline) {
      const shaped = findTokens(value)[0];
      const red = ctx.redactor.redact(value);
      ctx.credential({ source: 'agent-config', kind: shaped?.shape.kind ?? kindFromName(key.replace(/-/g, '_')), location: `${file}:${key}`, redacted: red, longLived: true, severity: scope === 'repo' ? 'critical' : 'high' });
      ctx.add({
        id: 'agent.inline-credential',
        severity: scope === 'repo' ? 'critical' : 'high',
        category: 'credential',
        title: `Aider config holds an API key in clear text (${key})`,
        evidence: `${ctx.display(file)}: ${key} = ${red}`,
        asi: ['ASI03'],
        fix: `Remove the key from ${ctx.display(file)}${scope === 'repo' ? ' (it is in the repository: rotate it now)' : ''} and read it from the environment; under airlock broker it:\nsecrets:\n  OPENAI_API_KEY:\n    from: env:OPENAI_API_KEY\n    inject: { host: api.openai.com, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`,
        file,
        line: lineOf(r.text, key.split(' ').pop()!),
      });
    }
    const shell = yes ? cat('unrestricted', 'yes-always: suggested shell commands run without asking') : v['suggest-shell-commands'] === false ? cat('none', 'suggest-shell-commands: false') : cat('ask', 'suggested shell commands ask (default)');
    ctx.agents.push(
      makeEntry({
        agent: 'aider',
        name: 'Aider',
        scope,
        files: [file],
        categories: {
          filesystem: cat(yes ? 'unrestricted' : 'scoped', yes ? 'yes-always: adds and edits any file without asking' : 'edits files added to the chat without asking; adding others asks'),
          shell,
          network: yes ? cat('unrestricted', 'yes-always: URLs are fetched and shell commands reach any host') : cat('ask', 'fetching URLs asks (default)'),
          secrets: yes ? cat('unrestricted', 'shell commands read the environment and credential files without asking') : cat(inline.length ? 'scoped' : 'ask', inline.length ? 'holds API keys from its config' : 'inherits the environment; commands ask'),
        },
        notes,
      }),
    );
  }
}
