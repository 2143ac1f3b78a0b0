import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AARCH64, AUDIT_ARCH_I386, BPF, buildSeccompFilter, buildSeccompProgram, CLONE_NEW_FLAGS, DENIED_SYSCALLS, ENOSYS, EPERM,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, TIOCLINUX, TIOCSTI, X86_64, type ArchTable, type Insn,
} from './seccomp.js';

/**
 * A tiny classic-BPF interpreter (the subset the filter uses), so that the program's decisions
 * are tested by running it, not by reading it.
 */
function run(prog: Insn[], data: { nr: number; arch: number; args?: bigint[] }): number {
  const buf = Buffer.alloc(64);
  buf.writeInt32LE(data.nr | 0, 0);
  buf.writeUInt32LE(data.arch >>> 0, 4);
  (data.args ?? []).forEach((a, i) => buf.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0, steps = 0; pc < prog.length; steps++) {
    assert.ok(steps < 10000, 'program does not terminate');
    const { code, jt, jf, k } = prog[pc]!;
    switch (code) {
      case BPF.LD_W_ABS:
        assert.ok(k % 4 === 0 && k + 4 <= 64, `bad load offset ${k}`);
        acc = buf.readUInt32LE(k);
        pc++;
        break;
      case BPF.JEQ_K:
        pc += 1 + (acc === k ? jt : jf);
        break;
      case BPF.JGE_K:
        pc += 1 + (acc >>> 0 >= k >>> 0 ? jt : jf);
        break;
      case BPF.JSET_K:
        pc += 1 + ((acc & k) !== 0 ? jt : jf);
        break;
      case BPF.RET_K:
        return k >>> 0;
      default:
        assert.fail(`unknown opcode ${code}`);
    }
  }
  assert.fail('fell off the end of the program');
}

const ERR = (e: number) => (SECCOMP_RET_ERRNO | e) >>> 0;

for (const table of [X86_64, AARCH64] as ArchTable[]) {
  const prog = buildSeccompProgram(table);
  const sys = (name: string, args?: bigint[]) => run(prog, { nr: table.nr[name]!, arch: table.auditArch, args });

  test(`${table.name}: every denied syscall answers EPERM`, () => {
    for (const name of DENIED_SYSCALLS) {
      if (table.nr[name] === undefined) continue;
      assert.equal(sys(name), ERR(EPERM), name);
    }
  });

  test(`${table.name}: ordinary syscalls are allowed`, () => {
    for (let nr = 0; nr < 450; nr++) {
      const name = Object.entries(table.nr).find(([, n]) => n === nr)?.[0];
      if (name) continue;
      assert.equal(run(prog, { nr, arch: table.auditArch }), SECCOMP_RET_ALLOW, `nr ${nr}`);
    }
  });

  test(`${table.name}: another architecture is killed`, () => {
    for (const arch of [AUDIT_ARCH_I386, 0, 0xffffffff, table === X86_64 ? AARCH64.auditArch : X86_64.auditArch]) {
      assert.equal(run(prog, { nr: 0, arch }), SECCOMP_RET_KILL_PROCESS);
      assert.equal(run(prog, { nr: table.nr.mount!, arch }), SECCOMP_RET_KILL_PROCESS);
    }
  });

  test(`${table.name}: clone with any CLONE_NEW* flag is refused, plain clone allowed`, () => {
    assert.equal(sys('clone', [0x01200011n]), SECCOMP_RET_ALLOW); // fork-like
    assert.equal(sys('clone', [0x003d0f00n]), SECCOMP_RET_ALLOW); // pthread_create-like
    for (let bit = 0; bit < 32; bit++) {
      const flag = 1 << bit;
      if ((CLONE_NEW_FLAGS & flag) === 0) continue;
      assert.equal(sys('clone', [BigInt(flag >>> 0) | 0x11n]), ERR(EPERM), `flag 0x${(flag >>> 0).toString(16)}`);
      // High bits set in the 64-bit argument do not hide the flag.
      assert.equal(sys('clone', [(0xffffffffn << 32n) | BigInt(flag >>> 0)]), ERR(EPERM));
    }
  });

  test(`${table.name}: clone3 answers ENOSYS so libc falls back to clone`, () => {
    assert.equal(sys('clone3'), ERR(ENOSYS));
  });

  test(`${table.name}: ioctl TIOCSTI and TIOCLINUX are refused, other ioctls allowed`, () => {
    assert.equal(sys('ioctl', [0n, BigInt(TIOCSTI)]), ERR(EPERM));
    assert.equal(sys('ioctl', [0n, BigInt(TIOCLINUX)]), ERR(EPERM));
    // The kernel reads the request as 32 bits: high garbage must not bypass the check.
    assert.equal(sys('ioctl', [0n, (0xdeadbeefn << 32n) | BigInt(TIOCSTI)]), ERR(EPERM));
    assert.equal(sys('ioctl', [0n, 0x5401n /* TCGETS */]), SECCOMP_RET_ALLOW);
    assert.equal(sys('ioctl', [0n, 0x5413n /* TIOCGWINSZ */]), SECCOMP_RET_ALLOW);
  });
}

test('x86_64: the x32 ABI is killed', () => {
  const prog = buildSeccompProgram(X86_64);
  assert.equal(run(prog, { nr: 0x40000000 | 1, arch: X86_64.auditArch }), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(prog, { nr: 0x40000000 | X86_64.nr.mount!, arch: X86_64.auditArch }), SECCOMP_RET_KILL_PROCESS);
});

test('the encoded filter is 8 bytes per instruction, little-endian', () => {
  const prog = buildSeccompProgram(X86_64);
  const bytes = buildSeccompFilter(X86_64);
  assert.equal(bytes.length, prog.length * 8);
  assert.equal(bytes.readUInt16LE(0), BPF.LD_W_ABS);
  assert.equal(bytes.readUInt32LE(4), 4); // load arch first
  assert.equal(bytes.readUInt32LE(bytes.length - 4), SECCOMP_RET_ALLOW);
});
