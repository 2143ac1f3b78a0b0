/**
 * bench/workspace: what staging costs. Side by side in one run, on the same synthetic repository
 * (3000 files): a file-heavy workload run directly in the tree (baseline) vs in the staged view
 * (overlay on disk, overlay with a tmpfs upper — the `disk` limit —, and the copy fallback), plus
 * the time to stage, to release, and to compute the change list and render the patch.
 *
 * Run: `node dist/bench/workspace.js` (root for the overlay rows).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionDir, newSessionId, writeSessionMeta } from '../src/session/store.js';
import { openChanges, renderPatch, stageWorkspace, type StageOptions } from '../src/workspace/index.js';

const FILES = 3000;

function makeRepo(root: string): void {
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(root, `pkg${d}`, 'src'), { recursive: true });
    for (let f = 0; f < FILES / 30; f++) writeFileSync(join(root, `pkg${d}`, 'src', `f${f}.ts`), `export const v${f} = ${f};\n`.repeat(40));
  }
}

/** An agent-like file loop: stat and read everything, modify 300 files, create 1000, delete 100. */
function workload(root: string): void {
  for (let d = 0; d < 30; d++) {
    const dir = join(root, `pkg${d}`, 'src');
    for (const n of readdirSync(dir)) {
      statSync(join(dir, n));
      readFileSync(join(dir, n));
    }
  }
  for (let i = 0; i < 300; i++) {
    const p = join(root, `pkg${i % 30}`, 'src', `f${i % 100}.ts`);
    writeFileSync(p, `${readFileSync(p, 'utf8')}// edited\n`);
  }
  mkdirSync(join(root, 'gen'), { recursive: true });
  for (let i = 0; i < 1000; i++) writeFileSync(join(root, 'gen', `g${i}.js`), `module.exports = ${i};\n`.repeat(20));
  for (let i = 0; i < 100; i++) rmSync(join(root, `pkg${i % 30}`, 'src', `f${50 + (i % 40)}.ts`), { force: true });
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'airlock-bench-ws-'));
  process.env.AIRLOCK_HOME = join(base, 'home');
  const rows: { name: string; stage: number; work: number; release: number; changes: number; patchKB: number; n: number }[] = [];
  try {
    // The baseline runs twice (first and last) and counts its best time: disk caches warm up.
    const directRun = (tag: string): number => {
      const direct = join(base, `direct-${tag}`);
      mkdirSync(direct);
      makeRepo(direct);
      const t0 = process.hrtime.bigint();
      workload(direct);
      return ms(t0);
    };
    rows.push({ name: 'direct (baseline)', stage: 0, work: directRun('a'), release: 0, changes: 0, patchKB: 0, n: 0 });
    let t: bigint;

    const variants: [string, Partial<StageOptions>][] = [
      ['overlay', { mode: 'overlay' }],
      ['overlay + tmpfs upper', { mode: 'overlay', diskBytes: 512 << 20 }],
      ['copy', { mode: 'copy' }],
    ];
    for (const [name, opts] of variants) {
      const repo = join(base, name.replace(/\W+/g, '-'));
      mkdirSync(repo);
      makeRepo(repo);
      const id = newSessionId();
      const dir = createSessionDir(id);
      writeSessionMeta({ id, createdAt: new Date().toISOString(), workspace: repo, policyFile: '', policyDigest: '', backend: 'none', argv: [], status: 'ended' });
      let staged;
      t = process.hrtime.bigint();
      try {
        staged = await stageWorkspace({ workspace: repo, sessionDir: dir, ...opts });
      } catch (err) {
        console.log(`${name}: skipped (${(err as Error).message})`);
        continue;
      }
      const stage = ms(t);
      t = process.hrtime.bigint();
      workload(staged.merged);
      const work = ms(t);
      t = process.hrtime.bigint();
      await staged.release();
      const release = ms(t);
      t = process.hrtime.bigint();
      const set = await openChanges(dir);
      const patch = renderPatch(set.changes);
      await set.close();
      rows.push({ name, stage, work, release, changes: ms(t), patchKB: patch.length / 1024, n: set.changes.length });
    }
    rows[0]!.work = Math.min(rows[0]!.work, directRun('b'));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const baseWork = rows[0]!.work;
  console.log(`workspace staging, ${FILES} files; workload = read all, edit 300, create 1000, delete 100`);
  console.log('variant                  stage ms   workload ms  ×direct   release ms  changes+patch ms  changes  patch KiB');
  for (const r of rows) {
    console.log(`${r.name.padEnd(24)} ${r.stage.toFixed(0).padStart(8)} ${r.work.toFixed(0).padStart(13)} ${(r.work / baseWork).toFixed(2).padStart(8)}× ${r.release.toFixed(0).padStart(11)} ${r.changes.toFixed(0).padStart(17)} ${String(r.n).padStart(8)} ${r.patchKB.toFixed(0).padStart(10)}`);
  }
}

await main();
