"""No new user namespaces from inside a sandbox: a seccomp filter, installed before student code.

A user namespace gives a process a root of its own, and with it kernel interfaces an
unprivileged user never reaches. Without root, bubblewrap's ``--disable-userns`` stops them; as
root the sandbox uses no user namespace, and an unprivileged uid may still create one. So the
sandboxed process installs this filter itself (after ``PR_SET_NO_NEW_PRIVS``; every process it
starts inherits it): ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` fail with EPERM, and
``clone3`` (whose flags a filter cannot read) with ENOSYS, so the C library falls back to
``clone``. Flatpak filters the same calls. Standard library only.
"""

from __future__ import annotations

import ctypes
import platform
import struct

CLONE_NEWUSER = 0x10000000
# (audit arch, unshare, clone, clone3) per machine
ARCHES = {
    "x86_64": (0xC000003E, 272, 56, 435),
    "aarch64": (0xC00000B7, 97, 220, 435),
}
LD_ABS, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def program(machine: str | None = None) -> bytes:
    """The filter, as the kernel's struct sock_filter array."""
    arch, unshare, clone, clone3 = ARCHES[machine or platform.machine()]
    insns = [
        (LD_ABS, 0, 0, 4),  # 0: A = seccomp_data.arch
        (JEQ, 1, 0, arch),  # 1: our architecture? else allow
        (RET, 0, 0, ALLOW),  # 2
        (LD_ABS, 0, 0, 0),  # 3: A = seccomp_data.nr
        (JEQ, 3, 0, unshare),  # 4 -> 8
        (JEQ, 2, 0, clone),  # 5 -> 8
        (JEQ, 5, 0, clone3),  # 6 -> 12
        (RET, 0, 0, ALLOW),  # 7
        (LD_ABS, 0, 0, 16),  # 8: A = low 32 bits of args[0], the flags
        (JSET, 1, 0, CLONE_NEWUSER),  # 9 -> 11 (EPERM)
        (RET, 0, 0, ALLOW),  # 10
        (RET, 0, 0, ERRNO | EPERM),  # 11
        (RET, 0, 0, ERRNO | ENOSYS),  # 12
    ]
    return b"".join(struct.pack("=HBBI", *insn) for insn in insns)


def forbid_user_namespaces() -> bool:
    """Install the filter in this process; True if it is in place."""
    if platform.system() != "Linux" or platform.machine() not in ARCHES:
        return False
    code = program()
    buf = ctypes.create_string_buffer(code, len(code))

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
    ]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0
