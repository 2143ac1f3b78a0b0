/**
 * Reading secret values on the host at session start (and at renewal):
 * - `env:NAME`  — airlock's own environment;
 * - `file:PATH` — the file's content (absolute after policy compilation);
 * - `cmd:COMMAND` — the user's own host command, run as `/bin/sh -c COMMAND` (a shell string on
 *   purpose: it is the policy author's command line, e.g. `pass show gh-token`, run on the host with
 *   the user's rights, never anything from inside the sandbox). Its stdout is the value.
 *
 * Every value is trimmed of surrounding whitespace. A value that is empty, too large, or holds
 * control characters (which could split an HTTP header) is refused. Errors name the secret and
 * the source but never contain the value or the command's output.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { SecretSource } from '../policy/index.js';
import { AirlockError } from '../util/errors.js';

export const CMD_TIMEOUT_MS = 30_000;
const MAX_VALUE_BYTES = 64 * 1024;

export function describeSource(s: SecretSource): string {
  return s.kind === 'env' ? `env:${s.name}` : s.kind === 'file' ? `file:${s.path}` : 'cmd:…';
}

function fail(secret: string, source: SecretSource, why: string, hint: string): AirlockError {
  return new AirlockError('secret-source', `secrets.${secret} (${describeSource(source)}): ${why}`, hint, 1);
}

/** Reads one source. Rejects with an AirlockError that never includes the value. */
export async function readSecretSource(secret: string, source: SecretSource, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; allowMultiline?: boolean } = {}): Promise<string> {
  let raw: string;
  if (source.kind === 'env') {
    const v = (opts.env ?? process.env)[source.name];
    if (v === undefined) throw fail(secret, source, `environment variable ${source.name} is not set`, `export ${source.name} before running airlock`);
    raw = v;
  } else if (source.kind === 'file') {
    try {
      const buf = await readFile(source.path);
      if (buf.length > MAX_VALUE_BYTES) throw fail(secret, source, `the file is larger than ${MAX_VALUE_BYTES} bytes`, 'point the source at a file holding only the secret');
      raw = buf.toString('utf8');
    } catch (e) {
      if (e instanceof AirlockError) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw fail(secret, source, `cannot read the file (${code})`, 'check the path in the policy (relative paths are relative to the policy file)');
    }
  } else {
    raw = await runCommand(secret, source, opts.timeoutMs ?? CMD_TIMEOUT_MS, opts.env);
  }
  return validateValue(secret, source, raw, opts.allowMultiline);
}

/** Trims and checks a value. `multiline` (PEM keys for minting, never injected into headers) allows line breaks. */
export function validateValue(secret: string, source: SecretSource, raw: string, multiline = false): string {
  const v = raw.trim();
  if (!v) throw fail(secret, source, 'the value is empty', 'make the source produce the secret');
  if ((multiline ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/ : /[\x00-\x1f\x7f]/).test(v)) throw fail(secret, source, 'the value contains control characters or line breaks', 'a secret must be a single line');
  if (/airlock_ph_/.test(v)) throw fail(secret, source, 'the value is itself an airlock placeholder', 'run airlock on the host, not inside a session');
  return v;
}

function runCommand(secret: string, source: SecretSource & { kind: 'cmd' }, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', source.command], { stdio: ['ignore', 'pipe', 'ignore'], env: env ?? process.env, detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_VALUE_BYTES) {
        tooBig = true;
        killGroup();
      } else chunks.push(c);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(fail(secret, source, `cannot start /bin/sh (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that /bin/sh exists'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return reject(fail(secret, source, `the command did not finish within ${Math.round(timeoutMs / 1000)}s`, 'make the command non-interactive'));
      if (tooBig) return reject(fail(secret, source, `the command printed more than ${MAX_VALUE_BYTES} bytes`, 'print only the secret'));
      if (code !== 0) return reject(fail(secret, source, `the command failed (${signal ? `signal ${signal}` : `exit ${code}`})`, 'run the command yourself to see why (airlock does not show its output)'));
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
