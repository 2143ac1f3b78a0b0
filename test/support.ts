/** Small helpers shared by the end-to-end, attack and agent tests. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a program is on PATH (tests skip with a reason when it is not). */
export function has(bin: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'has', bin]).status === 0;
}

/** Every regular file below `dir`, recursively (for "the secret appears in no file" checks). */
export function filesUnder(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}
