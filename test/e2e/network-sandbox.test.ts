/**
 * The egress bridge inside the real backends (runsc and bwrap): the relay prelude, the mounted
 * proxy socket, proxy variables; allowed traffic reaches a loopback server on the host only
 * through the proxy, and a program that ignores the proxy variables reaches nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, backendInstalled } from '../../src/sandbox/index.js';
import type { LaunchSpec } from '../../src/sandbox/types.js';
import { compileNetworkRule } from '../../src/policy/compile.js';
import type { EventInput } from '../../src/audit/types.js';
import { sandboxNetworkPlan, startProxy } from '../../src/network/index.js';
import { startEchoServer } from '../../src/network/testing.js';

// Everything the agent does, with results written into the workspace. Fixed script, data as $1..$3.
const AGENT = `ws=$1; port=$2; meta=$3
curl -s -m 8 "http://127.0.0.1:$port/allowed" > "$ws/allowed.txt"; echo $? > "$ws/allowed.rc"
curl -s -m 8 -p "http://127.0.0.1:$port/tunnel" > "$ws/tunnel.txt"; echo $? > "$ws/tunnel.rc"
curl -s -m 8 -o /dev/null -w '%{http_code}' http://example.com/ > "$ws/denied.txt"
curl -s -m 8 -o /dev/null -w '%{http_code}' "http://$meta/latest/meta-data/" > "$ws/meta.txt"
curl -s -m 8 -o /dev/null -w '%{http_code}' "http://2130706433:1/" > "$ws/alt.txt"
curl -s -m 3 --noproxy '*' "http://127.0.0.1:$port/direct" > /dev/null 2>&1; echo $? > "$ws/direct.rc"
curl -s -m 3 --noproxy '*' "http://$meta/" > /dev/null 2>&1; echo $? > "$ws/direct-meta.rc"
curl -s -m 3 --noproxy '*' http://1.1.1.1/ > /dev/null 2>&1; echo $? > "$ws/direct-public.rc"
env -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy curl -s -m 3 "http://127.0.0.1:$port/noenv" > /dev/null 2>&1; echo $? > "$ws/noenv.rc"
`;

for (const backend of ['gvisor', 'bwrap'] as const) {
  test(`${backend}: traffic leaves only through the proxy; a program ignoring proxy variables gets nothing`, { timeout: 90_000 }, async (t) => {
    if (!backendInstalled(backend)) return t.skip(`${backend} is not installed`);
    if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed');
    const root = mkdtempSync(join(tmpdir(), `airlock-e2e-net-${backend}-`));
    const oldHome = process.env.AIRLOCK_HOME;
    process.env.AIRLOCK_HOME = join(root, 'home');
    t.after(() => {
      process.env.AIRLOCK_HOME = oldHome;
      rmSync(root, { recursive: true, force: true });
    });
    const echo = await startEchoServer();
    t.after(() => echo.close());
    const ws = join(root, 'ws');
    const runDir = join(root, 'run');
    mkdirSync(ws);
    mkdirSync(join(runDir, 'net'), { recursive: true });
    const events: EventInput[] = [];
    const proxy = await startProxy({
      policy: { network: { allow: [compileNetworkRule(`127.0.0.1:${echo.port}`), compileNetworkRule('169.254.169.254.nip.io')], deny: [] } },
      socketPath: join(runDir, 'net', 'proxy.sock'),
      audit: { emit: (e) => events.push(e) },
    });
    t.after(() => proxy.close());
    const plan = sandboxNetworkPlan({ socketPath: proxy.socketPath, port: 3128 })!;
    const before = echo.connections();
    const spec: LaunchSpec = {
      sessionId: `nettest${backend}${process.pid}`,
      runDir: join(runDir, 'sandbox'),
      argv: ['/bin/sh', '-c', AGENT, 'agent', ws, String(echo.port), '169.254.169.254'],
      workspace: { hostPath: ws, sandboxPath: ws },
      cwd: ws,
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp', ...plan.env },
      mounts: plan.mounts,
      deny: [],
      prelude: plan.prelude,
      limits: {},
      tty: false,
    };
    const handle = await getBackend(backend).launch(spec);
    const r = await handle.wait();
    assert.equal(r.exitCode, 0, `agent exit: ${JSON.stringify(r)}`);
    const read = (f: string) => (existsSync(join(ws, f)) ? readFileSync(join(ws, f), 'utf8').trim() : '(missing)');
    assert.equal(read('allowed.rc'), '0');
    assert.match(read('allowed.txt'), /"url":"\/allowed"/);
    assert.equal(read('tunnel.rc'), '0');
    assert.match(read('tunnel.txt'), /"url":"\/tunnel"/);
    assert.equal(read('denied.txt'), '403');
    assert.equal(read('meta.txt'), '403');
    assert.equal(read('alt.txt'), '403');
    // Without the proxy: no route. curl exit 7 = could not connect; 28 = timeout. Never 0.
    for (const f of ['direct.rc', 'direct-meta.rc', 'direct-public.rc', 'noenv.rc']) assert.ok(['7', '28'].includes(read(f)), `${f} = ${read(f)}`);
    assert.equal(echo.connections() - before, 2, 'the host server saw exactly the two proxied connections');
    await new Promise((res) => setTimeout(res, 100));
    const stats = proxy.stats();
    assert.deepEqual(stats.hostsContacted, [`127.0.0.1:${echo.port}`]);
    assert.ok(stats.hostsDenied.includes('example.com:80'));
    assert.ok(stats.hostsDenied.includes('169.254.169.254:80'));
    assert.ok(events.every((e) => e.kind === 'network'));
  });
}
