#!/usr/bin/env python3
"""Escape probes, run INSIDE the sandbox by test/attacks/escape.test.ts.

Usage: probe.py NAME [ARGS...]. Each probe tries one way out and prints exactly one verdict line:
  ESCAPED: <what worked>      the boundary failed
  contained: <why it failed>  the attempt was refused
The test asserts on the verdict; the host side also checks its own state (files, listeners).
"""
import ctypes
import errno
import os
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)


def escaped(msg):
    print(f"ESCAPED: {msg}", flush=True)
    sys.exit(0)


def contained(msg):
    print(f"contained: {msg}", flush=True)
    sys.exit(0)


def err():
    e = ctypes.get_errno()
    return f"{errno.errorcode.get(e, e)}"


def read_paths(paths):
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read(65536)
            if b"CANARY" in data:
                escaped(f"read {p}")
        except OSError:
            pass
        # Directory listings must not reveal the canary files either.
        try:
            for name in os.listdir(p):
                q = os.path.join(p, name)
                try:
                    with open(q, "rb") as f:
                        if b"CANARY" in f.read(65536):
                            escaped(f"read {q}")
                except OSError:
                    pass
        except OSError:
            pass
    contained(f"none of {len(paths)} paths readable")


def probe(name, args):
    if name == "read":
        read_paths(args)
    if name == "symlink-inside":
        for i, target in enumerate(args):
            link = f"/tmp/l{i}"
            try:
                os.symlink(target, link)
                with open(link, "rb") as f:
                    if b"CANARY" in f.read():
                        escaped(f"symlink to {target}")
            except OSError:
                pass
        contained("symlinks resolve inside the sandbox view")
    if name == "hardlink-inside":
        for i, target in enumerate(args):
            try:
                os.link(target, f"hl{i}")
                escaped(f"hard link to {target}")
            except OSError as e:
                pass
        contained("no hard link to a host file")
    if name == "write-outside":
        for p in args:
            try:
                with open(p, "w") as f:
                    f.write("PWNED")
                # A write that lands in a private tmpfs is not a host write; the host side checks.
            except OSError:
                pass
        contained("writes attempted; host checks the result")
    if name == "env":
        blobs = [repr(dict(os.environ)).encode()]
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        blobs.append(f.read())
                except OSError:
                    pass
        for b in blobs:
            if b"CANARY" in b:
                escaped("host environment visible")
        contained("no host environment")
    if name == "proc":
        marker = args[0][::-1].encode()  # passed reversed, so our own argv does not match
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if marker in f.read():
                            escaped(f"host process {pid} visible")
                except OSError:
                    pass
        n = len([p for p in os.listdir("/proc") if p.isdigit()])
        contained(f"{n} processes visible, none of the host's")
    if name == "unshare":
        for flags, what in ((0x10000000, "user"), (0x00020000, "mount"), (0x40000000, "net"), (0x20000000, "pid"), (0x10000000 | 0x00020000, "user+mount")):
            if libc.unshare(flags) == 0:
                escaped(f"unshare({what}) succeeded")
        contained(f"unshare refused ({err()})")
    if name == "clone-newuser":
        # clone(CLONE_NEWUSER|SIGCHLD) through syscall(): must be refused.
        pid = libc.syscall(56 if os.uname().machine == "x86_64" else 220, 0x10000000 | 17, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        if pid > 0:
            os.waitpid(pid, 0)
            escaped("clone(CLONE_NEWUSER) succeeded")
        contained(f"clone(CLONE_NEWUSER) refused ({err()})")
    if name == "mount":
        os.makedirs("/tmp/m", exist_ok=True)
        if libc.mount(b"none", b"/tmp/m", b"tmpfs", 0, None) == 0:
            escaped("mount tmpfs succeeded")
        if libc.mount(b"/", b"/tmp/m", None, 0x1000, None) == 0:
            escaped("bind mount succeeded")
        contained(f"mount refused ({err()})")
    if name == "ptrace":
        PTRACE_TRACEME, PTRACE_ATTACH = 0, 16
        if libc.ptrace(PTRACE_ATTACH, os.getppid(), 0, 0) == 0:
            escaped("PTRACE_ATTACH to parent succeeded")
        if libc.ptrace(PTRACE_ATTACH, 1, 0, 0) == 0:
            escaped("PTRACE_ATTACH to pid 1 succeeded")
        pid = os.fork()
        if pid == 0:
            r = libc.ptrace(PTRACE_TRACEME, 0, 0, 0)
            os._exit(0 if r == 0 else 1)
        _, st = os.waitpid(pid, 0)
        if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0:
            escaped("PTRACE_TRACEME succeeded")
        contained(f"ptrace refused ({err()})")
    if name == "process-vm":
        # process_vm_readv on the parent: refused.
        nr = 310 if os.uname().machine == "x86_64" else 270
        buf = ctypes.create_string_buffer(8)

        class iovec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

        local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
        remote = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
        pid = os.fork()
        if pid == 0:
            import time
            time.sleep(2)
            os._exit(0)
        r = libc.syscall(nr, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        if r >= 0:
            escaped("process_vm_readv succeeded")
        contained(f"process_vm_readv refused ({err()})")
    if name == "tiocsti":
        import fcntl
        import termios
        master, slave = os.openpty()
        for fd in (slave, master, 0, 1, 2):
            try:
                fcntl.ioctl(fd, termios.TIOCSTI, b"x")
                escaped(f"TIOCSTI on fd {fd} succeeded")
            except OSError:
                pass
        contained("TIOCSTI refused")
    if name == "keyring":
        nr_keyctl = 250 if os.uname().machine == "x86_64" else 219
        nr_add_key = 248 if os.uname().machine == "x86_64" else 217
        if libc.syscall(nr_keyctl, 0, -3, 0) >= 0:  # KEYCTL_GET_KEYRING_ID, session keyring
            escaped("keyctl succeeded")
        if libc.syscall(nr_add_key, b"user", b"airlock", b"x", 1, -3) >= 0:
            escaped("add_key succeeded")
        contained(f"keyring refused ({err()})")
    if name == "bpf-iouring-perf":
        x86 = os.uname().machine == "x86_64"
        for nr, what in ((321 if x86 else 280, "bpf"), (425, "io_uring_setup"), (298 if x86 else 241, "perf_event_open"), (323 if x86 else 282, "userfaultfd")):
            if what == "io_uring_setup":
                params = ctypes.create_string_buffer(120)
                r = libc.syscall(nr, 4, params)
            elif what == "bpf":
                attr = ctypes.create_string_buffer(128)
                r = libc.syscall(nr, 0, attr, 128)  # BPF_MAP_CREATE with zero attr
                if r < 0 and ctypes.get_errno() == errno.EINVAL:
                    escaped("bpf reachable (EINVAL, not refused)")
            elif what == "perf_event_open":
                attr = ctypes.create_string_buffer(128)
                r = libc.syscall(nr, attr, 0, -1, -1, 0)
            else:
                r = libc.syscall(nr, 0)
            if r >= 0:
                escaped(f"{what} succeeded")
        contained("bpf, io_uring, perf_event_open, userfaultfd refused")
    if name == "chroot-pivot":
        try:
            os.chroot("/tmp")
            escaped("chroot succeeded")
        except OSError:
            pass
        contained("chroot refused")
    if name == "unix-socket":
        for path in args:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(3)
                s.connect(path)
                s.sendall(b"ESCAPE")
                escaped(f"connected to host unix socket {path}")
            except OSError:
                pass
        contained("host unix sockets unreachable")
    if name == "abstract-socket":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(3)
            s.connect("\0" + args[0])
            s.sendall(b"ESCAPE")
            escaped("connected to host abstract socket")
        except OSError as e:
            contained(f"abstract socket unreachable ({e.errno})")
    if name == "tcp":
        for target in args:
            host, port = target.rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(3)
            try:
                s.connect((host, int(port)))
                s.sendall(b"ESCAPE")
                try:
                    data = s.recv(64)
                except OSError:
                    data = b""
                if b"HOST" in data:
                    escaped(f"reached host listener {target}")
            except OSError:
                pass
        contained("host TCP listeners unreachable")
    if name == "raw-socket":
        for fam, typ, proto, what in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, "raw icmp"), (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP, "raw tcp"), (17, socket.SOCK_RAW, 0x0300, "packet")):
            try:
                socket.socket(fam, typ, proto)
                escaped(f"{what} socket created")
            except OSError:
                pass
        contained("raw sockets refused")
    if name == "interfaces":
        names = [n for _, n in socket.if_nameindex()]
        if any(n != "lo" for n in names):
            escaped(f"network interfaces besides lo: {names}")
        contained(f"interfaces: {names}")
    if name == "forkbomb":
        limit = int(args[0])
        pids = []
        refused = None
        for i in range(limit):
            try:
                pid = os.fork()
            except OSError as e:
                refused = e
                break
            if pid == 0:
                import time
                time.sleep(20)
                os._exit(0)
            pids.append(pid)
        for p in pids:
            try:
                os.kill(p, 9)
            except OSError:
                pass
        for p in pids:
            try:
                os.waitpid(p, 0)
            except OSError:
                pass
        if refused is None:
            escaped(f"{limit} processes created without hitting the pids limit")
        contained(f"fork refused after {len(pids)} processes ({refused.errno})")
    if name == "memhog":
        limit_mib = int(args[0])
        chunks = []
        try:
            for i in range(limit_mib):
                b = bytearray(1 << 20)
                for j in range(0, 1 << 20, 4096):
                    b[j] = 1
                chunks.append(b)
        except MemoryError:
            contained(f"MemoryError after {len(chunks)} MiB")
        escaped(f"allocated {limit_mib} MiB")
    if name == "diskfill":
        path, limit_mib = args[0], int(args[1])
        written = 0
        try:
            with open(path, "wb") as f:
                block = b"\0" * (1 << 20)
                for i in range(limit_mib):
                    f.write(block)
                    f.flush()
                    written += 1
                os.fsync(f.fileno())
        except OSError as e:
            contained(f"{e.errno} after {written} MiB")
        escaped(f"wrote {limit_mib} MiB to {path}")
    if name == "devices":
        for p in ("/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda", "/dev/kvm", "/dev/fuse", "/dev/net/tun"):
            try:
                fd = os.open(p, os.O_RDWR)
                os.close(fd)
                escaped(f"opened {p}")
            except OSError:
                pass
        contained("no host devices")
    if name == "setuid":
        # No setuid binaries take effect (nosuid, no_new_privs, no capabilities).
        with open("/proc/self/status") as f:
            st = f.read()
        caps = [l for l in st.splitlines() if l.startswith(("CapEff", "CapPrm", "CapBnd"))]
        nnp = [l for l in st.splitlines() if l.startswith("NoNewPrivs")]
        if any(l.split()[1].strip("0") for l in caps):
            escaped(f"capabilities present: {caps}")
        contained(f"no capabilities ({'; '.join(caps + nnp)})")
    print(f"unknown probe {name}")
    sys.exit(3)


def multi(argv):
    """multi NAME ARGS... -- NAME ARGS... : runs each probe in its own process, one line each."""
    import subprocess
    groups, cur = [], []
    for a in argv:
        if a == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    if cur:
        groups.append(cur)
    for g in groups:
        try:
            r = subprocess.run([sys.executable, __file__, *g], capture_output=True, timeout=60)
            out = (r.stdout.decode(errors="replace").strip().splitlines() or [f"contained: probe died (exit {r.returncode}) {r.stderr.decode(errors='replace').strip()[-200:]}"])[-1]
        except subprocess.TimeoutExpired:
            out = "contained: probe timed out"
        print(f"[{g[0]}] {out}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "multi":
        multi(sys.argv[2:])
    else:
        probe(sys.argv[1], sys.argv[2:])
