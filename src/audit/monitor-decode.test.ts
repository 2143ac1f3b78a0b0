import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encField, encVarint, int, readVarint, str, strs, peekField, peekInt, ProtoError } from './protowire.js';
import { MSG, TraceDecoder, parseSockaddr } from './gvisor-monitor.js';
import { StraceParser, parseExecArgs } from './strace-tracer.js';
import type { EventInput } from './types.js';

test('protowire: varints (fast path, 64-bit, negative int64), strings, repeated fields, truncation', () => {
  for (const n of [0n, 1n, 127n, 128n, 300n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 63n, 2n ** 64n - 1n]) assert.equal(readVarint(encVarint(n), 0)[0], n);
  const f = decode(Buffer.concat([encField(4, -100), encField(3, 'a'), encField(3, 'b c'), encField(6, 'x')]));
  assert.equal(int(f, 4), -100);
  assert.deepEqual(strs(f, 3), ['a', 'b c']);
  assert.equal(str(f, 6), 'x');
  assert.throws(() => decode(Buffer.from([0x1a, 0x05, 0x41])), ProtoError);
  assert.throws(() => decode(Buffer.from([0x08])), ProtoError);
  // one field without the map: the same value as decode, the same errors on a malformed message
  const m = Buffer.concat([encField(1, Buffer.from('ctx')), encField(7, 0o1101), encField(6, 'out.txt'), encField(7, 0o2)]);
  assert.equal(peekInt(m, 7), int(decode(m), 7));
  assert.equal(peekInt(m, 9), 0);
  assert.deepEqual(peekField(m, 1), Buffer.from('ctx'));
  assert.equal(peekInt(encField(4, -100), 4), -100);
  assert.throws(() => peekField(Buffer.from([0x1a, 0x05, 0x41]), 7), ProtoError);
  assert.throws(() => peekField(Buffer.from([0x38]), 7), ProtoError);
});

function packet(type: number, body: Buffer, dropped = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(8, 0);
  h.writeUInt16LE(type, 2);
  h.writeUInt32LE(dropped, 4);
  return Buffer.concat([h, body]);
}
const ctx = (tid: number, tgid: number, cwd = '/ws', comm = 'sh') => encField(1, Buffer.concat([encField(1, 1_700_000_000_123_000_000n), encField(2, tid), encField(4, tgid), encField(8, cwd), encField(9, comm)]));

test('gVisor decoder: clone → ppid, exec without env, exit codes and signals, write-opens, connects, drops', () => {
  const ev: EventInput[] = [];
  const d = new TraceDecoder({ emit: (e) => ev.push(e) });
  d.packet(packet(MSG.SENTRY_CLONE, Buffer.concat([ctx(1, 1), encField(3, 5), encField(4, 5)])));
  d.packet(packet(MSG.SENTRY_EXEC, Buffer.concat([ctx(5, 5), encField(2, '/usr/bin/git'), encField(3, 'git'), encField(3, 'push'), encField(4, 'GITHUB_TOKEN=airlock_ph_s_x')])));
  d.packet(packet(MSG.TASK_EXIT, Buffer.concat([ctx(6, 5), encField(2, 0)]))); // non-leader thread: ignored
  d.packet(packet(MSG.TASK_EXIT, Buffer.concat([ctx(5, 5), encField(2, 9)]))); // killed by SIGKILL
  // openat(AT_FDCWD, "out.txt", O_WRONLY|O_CREAT|O_TRUNC) = 3
  const open = (path: string, flags: number, errno = 0, dirfd = -100) => packet(MSG.OPEN, Buffer.concat([ctx(1, 1), encField(2, Buffer.concat([encField(1, errno ? -1 : 3), encField(2, errno)])), encField(4, dirfd), encField(6, path), encField(7, flags), encField(8, 0o644)]));
  d.packet(open('out.txt', 0o1101));
  d.packet(open('out.txt', 0o1101)); // same process + path: once
  d.packet(open('/etc/passwd', 0)); // read: counted only
  d.packet(open('/etc/shadow', 1, 30)); // EROFS → deny
  d.packet(open('/dev/null', 1));
  const sa4 = Buffer.from([2, 0, 0x01, 0xbb, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  d.packet(packet(MSG.CONNECT, Buffer.concat([ctx(1, 1), encField(2, encField(2, 113)), encField(6, sa4)])));
  d.packet(packet(MSG.SYSCALL_EXECVE, Buffer.concat([ctx(1, 1), encField(2, Buffer.concat([encField(1, -1), encField(2, 13)])), encField(6, '/ws/tool'), encField(7, 'tool')]), 3));
  d.packet(packet(MSG.SYSCALL_EXECVE, Buffer.concat([ctx(1, 1), encField(2, Buffer.concat([encField(1, -1), encField(2, 2)])), encField(6, '/usr/local/bin/x')]), 3));
  const exec = ev.find((e) => e.action === 'exec' && e.decision === 'allow')!;
  assert.equal(exec.subject, '/usr/bin/git');
  assert.deepEqual(exec.detail?.argv, ['git', 'push']);
  assert.equal(exec.detail?.ppid, 1);
  assert.equal(exec.timeMs, 1_700_000_000_123);
  assert.ok(!JSON.stringify(ev).includes('airlock_ph_'));
  const exits = ev.filter((e) => e.action === 'exit');
  assert.equal(exits.length, 1);
  assert.equal(exits[0]!.detail?.exitCode, 137);
  const files = ev.filter((e) => e.kind === 'file');
  assert.deepEqual(files.map((e) => [e.subject, e.decision]), [['/ws/out.txt', 'allow'], ['/etc/shadow', 'deny']]);
  assert.deepEqual(files[0]!.detail?.flags, ['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
  const conn = ev.find((e) => e.kind === 'network')!;
  assert.equal(conn.subject, '10.1.2.3:443');
  assert.equal(conn.decision, 'deny');
  assert.equal(conn.detail?.errno, 'EHOSTUNREACH');
  const denied = ev.filter((e) => e.kind === 'process' && e.decision === 'deny');
  assert.deepEqual(denied.map((e) => e.subject), ['/ws/tool']);
  assert.equal(d.stats.dropped, 3);
  assert.ok(ev.some((e) => e.action === 'monitor-dropped' && e.detail?.dropped === 3));
  assert.equal(d.stats.reads, 1);
  assert.throws(() => d.packet(Buffer.from([8, 0, 3])), ProtoError);
  assert.throws(() => d.packet(Buffer.from([200, 0, 3, 0, 0, 0, 0, 0])), ProtoError);
});

test('sockaddr decoding: inet, inet6, unix path and abstract', () => {
  const v6 = Buffer.alloc(28);
  v6.writeUInt16LE(10, 0);
  v6.writeUInt16BE(8080, 2);
  v6[23] = 1;
  assert.equal(parseSockaddr(v6)?.subject, '[::1]:8080');
  const un = Buffer.concat([Buffer.from([1, 0]), Buffer.from('/run/x.sock\0')]);
  assert.equal(parseSockaddr(un)?.subject, 'unix:/run/x.sock');
  assert.equal(parseSockaddr(Buffer.concat([Buffer.from([1, 0, 0]), Buffer.from('abs')]))?.subject, 'unix:@abs');
  assert.equal(parseSockaddr(Buffer.from([9])), undefined);
});

test('strace parser: escapes, unfinished/resumed lines, denied and ENOENT execs, signals, ppid inference', () => {
  assert.deepEqual(parseExecArgs('execve', '"/bin/echo", ["echo", "a\\"b", "t\\tx", "\\303\\251", "\\x41"...], 0x1 /* 3 vars */'), { path: '/bin/echo', argv: ['echo', 'a"b', 't\tx', 'é', 'A'], truncated: true });
  assert.deepEqual(parseExecArgs('execveat', 'AT_FDCWD, "/bin/ls", ["ls"], 0x1 /* 0 vars */, 0'), { path: '/bin/ls', argv: ['ls'], truncated: false });
  const ev: EventInput[] = [];
  const p = new StraceParser({ emit: (e) => ev.push(e) });
  for (const l of [
    '10 execve("/usr/bin/bwrap", ["bwrap", "--", "sh"], 0x7ff /* 9 vars */) = 0',
    '10 clone(child_stack=NULL, flags=CLONE_NEWPID|SIGCHLD) = 11',
    '11 clone(child_stack=NULL, flags=SIGCHLD) = 2',
    '12 execve("/bin/sh", ["sh", "-c", "x"], 0x7ff /* 9 vars */) = 0',
    '12 vfork( <unfinished ...>',
    '13 execve("/bin/true", ["true"], 0x7ff /* 9 vars */ <unfinished ...>',
    '12 <... vfork resumed>) = 3',
    '13 <... execve resumed>) = 0',
    '13 +++ exited with 0 +++',
    '12 clone(child_stack=NULL, flags=SIGCHLD) = 4',
    '14 execve("/usr/local/bin/nope", ["nope"], 0x1 /* 1 vars */) = -1 ENOENT (No such file or directory)',
    '14 execve("/ws/script.sh", ["/ws/script.sh"], 0x1 /* 1 vars */) = -1 EACCES (Permission denied)',
    '14 +++ exited with 126 +++',
    '12 +++ killed by SIGKILL +++',
    'garbage',
  ])
    p.line(l);
  const execs = ev.filter((e) => e.action === 'exec' && e.decision === 'allow');
  assert.deepEqual(execs.map((e) => e.subject), ['/bin/sh', '/bin/true']);
  assert.equal(execs[1]!.detail?.ppid, 12);
  const denied = ev.filter((e) => e.decision === 'deny');
  assert.deepEqual(denied.map((e) => [e.subject, e.detail?.errno]), [['/ws/script.sh', 'EACCES']]);
  const exits = ev.filter((e) => e.action === 'exit');
  assert.deepEqual(exits.map((e) => [e.subject, e.detail?.exitCode]), [['/bin/true', 0], ['/bin/sh', 137]]);
});

test('commands.deny shims: a refusal (exit 126 without exec of the real program) is a policy deny', () => {
  const ev: EventInput[] = [];
  const p = new StraceParser({ emit: (e) => ev.push(e) }, new Set(['git']));
  for (const l of [
    '20 1764355600.000001 execve("/usr/bin/bwrap", ["bwrap"], 0x1 /* 1 vars */) = 0',
    '22 1764355600.100000 execve("/bin/sh", ["sh", "-c", "x"], 0x1 /* 1 vars */) = 0',
    '23 1764355600.200000 execve("/usr/bin/git", ["git", "push", "--force"], 0x1 /* 1 vars */) = 0',
    '23 1764355600.300000 +++ exited with 126 +++',
    '24 1764355600.400000 execve("/usr/bin/git", ["git", "status"], 0x1 /* 1 vars */) = 0',
    '24 1764355600.500000 execve("/.airlock/real/git", ["/.airlock/real/git", "status"], 0x1 /* 1 vars */) = 0',
    '24 1764355600.600000 +++ exited with 126 +++',
  ])
    p.line(l);
  const denies = ev.filter((e) => e.kind === 'policy');
  assert.equal(denies.length, 1);
  assert.equal(denies[0]!.subject, '/usr/bin/git');
  assert.deepEqual(denies[0]!.detail?.argv, ['git', 'push', '--force']);
  assert.equal(denies[0]!.timeMs, 1764355600300);
  assert.equal(ev.find((e) => e.action === 'exec')!.timeMs, 1764355600100);
});

test('gVisor decoder: a unix socket that does not exist inside is recorded as info, a refused one as a denial', () => {
  const ev: EventInput[] = [];
  const d = new TraceDecoder({ emit: (e) => ev.push(e) });
  const nscd = Buffer.concat([Buffer.from([1, 0]), Buffer.from('/var/run/nscd/socket\0')]);
  const hostSock = Buffer.concat([Buffer.from([1, 0]), Buffer.from('/run/airlock/other.sock\0')]);
  d.packet(packet(MSG.CONNECT, Buffer.concat([ctx(1, 1), encField(2, encField(2, 2)), encField(6, nscd)]))); // ENOENT
  d.packet(packet(MSG.CONNECT, Buffer.concat([ctx(1, 1), encField(2, encField(2, 1)), encField(6, hostSock)]))); // EPERM
  assert.deepEqual(ev.map((e) => [e.subject, e.decision, e.detail?.errno]), [
    ['unix:/var/run/nscd/socket', 'info', 'ENOENT'],
    ['unix:/run/airlock/other.sock', 'deny', 'EPERM'],
  ]);
});
