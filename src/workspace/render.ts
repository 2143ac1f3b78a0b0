/** Whole-change-set renderers for `airlock diff`: the patch (bytes) and a `--stat` summary. */
import type { StagedChange } from './changes.js';
import { renderChange, statOf } from './unified.js';

/** The git-style patch of a change set, as bytes (content passes through unchanged). */
export function renderPatch(changes: StagedChange[]): Buffer {
  return Buffer.concat(changes.map((c) => Buffer.from(renderChange(c), 'latin1')));
}

/** A `git diff --stat`-like summary. */
export function renderStat(changes: StagedChange[]): string {
  const rows = changes.filter((c) => c.type !== 'dir').map(statOf);
  if (rows.length === 0) return ' 0 files changed\n';
  const w = Math.max(...rows.map((r) => r.label.length));
  let ins = 0;
  let del = 0;
  const lines = rows.map((r) => {
    ins += r.added;
    del += r.removed;
    const right = r.binary ? `Bin ${r.oldBytes} -> ${r.newBytes} bytes` : `${r.added + r.removed} ${'+'.repeat(Math.min(r.added, 40))}${'-'.repeat(Math.min(r.removed, 40))}`;
    return ` ${r.label.padEnd(w)} | ${right}`;
  });
  return `${lines.join('\n')}\n ${rows.length} file${rows.length === 1 ? '' : 's'} changed, ${ins} insertion${ins === 1 ? '' : 's'}(+), ${del} deletion${del === 1 ? '' : 's'}(-)\n`;
}

/**
 * For a terminal: shows control bytes (ESC, CR, backspace, ...) as `^X` so that content written by
 * the agent cannot hide or rewrite lines of the diff on the reviewer's screen (ANSI escapes,
 * carriage-return overwrites). Tab and newline pass. Piped output stays the exact patch.
 */
export function escapeForTerminal(buf: Buffer): Buffer {
  const out: number[] = [];
  let changed = false;
  for (const b of buf) {
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a) || b === 0x7f) {
      out.push(0x5e, b === 0x7f ? 0x3f : b + 0x40);
      changed = true;
    } else {
      out.push(b);
    }
  }
  return changed ? Buffer.from(out) : buf;
}
