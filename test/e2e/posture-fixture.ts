/**
 * Materialises a posture fixture (test/fixtures/posture/<name>/{home,repo}) into a temp dir,
 * replacing `@@NAME@@` placeholders with fresh FAKE credentials shaped like real ones (generated
 * now, so no token-shaped string is committed), and generating SSH keys where a
 * `.ssh/GENERATE-KEYS` file asks for them (`<file> encrypted|unencrypted`, real OpenSSH keys
 * from ssh-keygen when installed, PKCS#8 from node:crypto otherwise).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { generateKeyPairSync, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures/posture');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0234567';

function rand(n: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** A fake value for a placeholder name, shaped like the real credential. */
export function fakeValue(name: string, values: Record<string, string>): string {
  if (name.startsWith('GH_PAT')) return `ghp_${rand(36)}`;
  if (name.startsWith('GH_OAUTH')) return `gho_${rand(36)}`;
  if (name.startsWith('GH_FINE')) return `github_pat_${rand(22)}_${rand(59)}`;
  if (name.startsWith('AWS_KEY_ID')) return `AKIA${rand(16, UPPER)}`;
  if (name.startsWith('AWS_TEMP_ID')) return `ASIA${rand(16, UPPER)}`;
  if (name.startsWith('AWS_SECRET')) return rand(40, `${ALNUM}/+`);
  if (name.startsWith('AWS_SESSION')) return rand(180, `${ALNUM}/+`);
  if (name.startsWith('OPENAI')) return `sk-proj-${rand(48)}`;
  if (name.startsWith('ANTHROPIC')) return `sk-ant-api03-${rand(86)}-${rand(6)}AA`;
  if (name.startsWith('SLACK')) return `xoxb-${randomInt(1e11, 9e11)}-${randomInt(1e11, 9e11)}-${rand(24)}`;
  if (name.startsWith('NPM')) return `npm_${rand(36)}`;
  if (name.startsWith('GITLAB')) return `glpat-${rand(20)}`;
  if (name.startsWith('PYPI')) return `pypi-AgEIcHlwaS5vcmc${rand(60)}`;
  if (name.startsWith('KUBE_TOKEN')) return `eyJhbGciOiJSUzI1NiJ9.${rand(60)}.${rand(40)}`;
  if (name === 'DOCKER_AUTH') {
    values.PASSWORD_DOCKER ??= rand(24);
    return Buffer.from(`robot:${values.PASSWORD_DOCKER}`).toString('base64');
  }
  if (name.startsWith('PASSWORD')) return rand(22);
  return rand(32);
}

export interface Materialised {
  dir: string;
  home: string;
  repo: string;
  /** placeholder name → planted value (plus generated private keys' body lines under KEY_*). */
  values: Record<string, string>;
  cleanup(): void;
}

export function materialise(name: string): Materialised {
  const dir = mkdtempSync(join(tmpdir(), `airlock-posture-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const values: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const text = readFileSync(p, 'utf8');
        if (!text.includes('@@')) continue;
        const out = text.replace(/@@([A-Z0-9_]+)@@/g, (_m, n: string) => (values[n] ??= fakeValue(n, values)));
        writeFileSync(p, out);
      }
    }
  };
  walk(dir);
  const home = join(dir, 'home');
  const gen = join(home, '.ssh', 'GENERATE-KEYS');
  if (existsSync(gen)) {
    for (const line of readFileSync(gen, 'utf8').split('\n').filter(Boolean)) {
      const [file, mode] = line.split(/\s+/) as [string, string];
      const out = join(home, '.ssh', file);
      const pass = mode === 'encrypted' ? rand(16) : '';
      const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', 'fixture', '-f', out], { stdio: 'ignore' });
      if (r.status !== 0) {
        const { privateKey } = generateKeyPairSync('ed25519');
        const pem = pass ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: pass }) : privateKey.export({ type: 'pkcs8', format: 'pem' });
        writeFileSync(out, pem, { mode: 0o600 });
      }
      const body = readFileSync(out, 'utf8');
      values[`KEY_${file}`] = body.split('\n').filter((l) => l && !l.startsWith('-----'))[0]!;
    }
    rmSync(gen);
  }
  return { dir, home, repo: join(dir, 'repo'), values, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
