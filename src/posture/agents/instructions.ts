/**
 * Agent instruction files (`.cursorrules`, `.cursor/rules/*.mdc`, `CLAUDE.md`, `AGENTS.md`,
 * `GEMINI.md`, `.github/copilot-instructions.md`, ...): every agent reads them as trusted context.
 * We flag what a reviewer cannot see or should not trust there: invisible Unicode (zero-width,
 * bidi controls, tag characters — the "rules file backdoor"), instructions to fetch-and-run code,
 * and instructions to disable approvals.
 */
import type { AuditContext } from '../context.js';

const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u00AD]|[\u{E0000}-\u{E007F}]/gu;

export function scanInstructionFile(ctx: AuditContext, file: string, agentName: string): boolean {
  const r = ctx.read(file);
  if (!r.ok) return false;
  const text = r.text.charCodeAt(0) === 0xfeff ? r.text.slice(1) : r.text;
  const hidden = [...text.matchAll(INVISIBLE)];
  if (hidden.length) {
    const first = hidden[0]!;
    const line = text.slice(0, first.index).split('\n').length;
    const codes = [...new Set(hidden.map((m) => `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`))].slice(0, 6);
    ctx.add({
      id: 'instructions.hidden-unicode',
      severity: 'high',
      category: 'agent-config',
      title: `${agentName} instruction file contains ${hidden.length} invisible character(s) a reviewer cannot see`,
      evidence: `${ctx.display(file)}:${line}: ${codes.join(', ')}`,
      asi: ['ASI01', 'ASI06'],
      fix: `Inspect ${ctx.display(file)} with a hex viewer (e.g. \`cat -v\`) and remove the invisible characters; hidden text in rules files can carry instructions the model follows but a reviewer never sees. Require review for changes to agent instruction files (CODEOWNERS).`,
      file,
      line,
    });
  }
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    if (/(curl|wget|iwr|Invoke-WebRequest)\b[^\n|]*\|\s*(ba|z|da)?sh\b/i.test(l) || /\b(ignore|disregard) (all )?(previous|prior|above) instructions\b/i.test(l) || /--dangerously-skip-permissions|--yolo\b|bypassPermissions|danger-full-access/.test(l)) {
      ctx.add({
        id: 'instructions.suspicious',
        severity: 'medium',
        category: 'agent-config',
        title: `${agentName} instruction file tells the agent to run remote code, override instructions or skip approvals`,
        evidence: `${ctx.display(file)}:${i + 1}: ${ctx.redactor.quote(l.trim()).slice(0, 200)}`,
        asi: ['ASI01'],
        fix: 'Remove the instruction; agents follow instruction files as trusted input. Keep install steps in reviewed scripts, and keep approval modes out of shared instructions.',
        file,
        line: i + 1,
      });
    }
  });
  return true;
}
