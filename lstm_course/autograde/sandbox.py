"""Run the notebook runner inside bubblewrap, with resource limits and a wall-clock watchdog.

This module builds the sandbox and starts the runner in it; ``channel`` reads what the runner
reports and stops it at the limits.

The sandbox sees a read-only ``/usr``, the Python installation and virtual environment, the
installed ``lstm_ref`` package, fresh ``/proc``, ``/dev`` and ``/tmp``, and a size-limited tmpfs
home into which the runner copies the submission (a read-only bind of the grader's private
scratch copy); with a bubblewrap too old for ``--size``, the scratch copy itself is bound
writable instead. It has no network (its own empty network namespace), its own PID namespace
(everything it starts dies with it) and no view of the course directory: not ``solutions/``, not
the gradebook, not other submissions.

When the grader runs as root the runner drops to a per-slot unprivileged uid before any student
code runs, so the process limit (``RLIMIT_NPROC``) really applies; otherwise bubblewrap runs it in
a user namespace as the instructor's own uid.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import lstm_course
import lstm_ref
from lstm_course.autograde.channel import RunResult, explain_end, watch

HOME = "/home/student"
SUBMISSION = "/home/student/.submission"  # read-only copy the runner starts from
ROOT_UID_BASE = 2_000_000_000  # uids used for sandboxes when the grader runs as root


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


@dataclass
class Limits:
    """Resource limits of one sandboxed notebook run."""

    cell_timeout: float = 60.0  # seconds of wall time per cell
    notebook_timeout: float = 600.0  # seconds of wall time per notebook (also the CPU limit)
    memory_mb: int = 4096  # address space per process
    nproc: int = 64  # processes and threads of the sandbox's uid
    fsize_mb: int = 64  # largest file the notebook may write
    nofile: int = 1024
    tmpfs_mb: int = 512  # size of /tmp and of the home folder (the notebook's working folder)
    max_cell_output: int = 200_000  # characters of output kept per cell
    max_output: int = 2_000_000  # characters of output kept per notebook

    def rlimits(self) -> dict:
        return {
            "cpu": int(self.notebook_timeout),
            "as": self.memory_mb * 2**20,
            "nproc": self.nproc,
            "fsize": self.fsize_mb * 2**20,
            "nofile": self.nofile,
            "core": 0,
        }


def _bwrap_supports(option: str) -> bool:
    try:
        out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in out.stdout + out.stderr


def _python_dirs() -> list[Path]:
    """Folders the interpreter and lstm_ref need, read-only, at their own paths."""
    # The paths as Python sees them (a venv reached through a link keeps its linked path, where
    # pyvenv.cfg is looked for) and as they really are.
    dirs = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    dirs += [Path(os.path.abspath(p)) for p in (sys.prefix, sys.base_prefix)]
    for package in (lstm_ref, lstm_course):
        pkg = Path(package.__file__).resolve().parent
        if not any(pkg.is_relative_to(d) for d in dirs):
            dirs.append(pkg)
    exe = Path(sys.executable)
    real = exe.resolve()
    for d in (exe.parent, real.parent.parent):
        if not any(d.is_relative_to(x) for x in dirs) and not str(d).startswith("/usr"):
            dirs.append(d)
    out: list[Path] = []
    for d in sorted(set(dirs), key=lambda p: len(p.parts)):
        if str(d).startswith("/usr") or any(d.is_relative_to(o) for o in out):
            continue
        out.append(d)
    return out


class Sandbox:
    """Builds bubblewrap command lines and runs the notebook runner in them."""

    def __init__(self, limits: Limits, enabled: bool = True):
        self.limits = limits
        self.enabled = enabled
        # LSTM_AUTOGRADE_USERNS=1 makes root use the unprivileged layout (a user namespace and
        # no uid switch), so that the tests can exercise what an instructor without root runs.
        self.as_root = os.geteuid() == 0 and os.environ.get("LSTM_AUTOGRADE_USERNS") != "1"
        self.bwrap = shutil.which("bwrap")
        self._size = False
        self._disable_userns = False
        if enabled and self.bwrap:
            self._size = _bwrap_supports("--size")
            self._disable_userns = _bwrap_supports("--disable-userns")

    # -- command line -------------------------------------------------------------------
    def _bwrap_args(self, scratch: Path, workdir: str, etc_dir: Path) -> list[str]:
        args = [self.bwrap or "bwrap"]
        if self.as_root:
            # No user namespace: the runner switches to an unprivileged uid itself.
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
            args += ["--unshare-cgroup-try"]
        else:
            args += ["--unshare-all"]
            if self._disable_userns:
                args += ["--unshare-user", "--disable-userns"]
        args += ["--die-with-parent", "--new-session"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += self._tmpfs("/tmp")
        args += ["--perms", "0755", "--dir", "/etc"]
        for name in ("passwd", "group"):
            args += ["--ro-bind", str(etc_dir / name), f"/etc/{name}"]
        for name in ("ld.so.cache", "localtime", "nsswitch.conf", "fonts"):
            if Path("/etc", name).exists():
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        made: set[str] = {"/", "/usr", "/tmp", "/etc", "/proc", "/dev"}
        for d in _python_dirs():
            for parent in reversed(d.parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", str(d), str(d)]
            made.add(str(d))
        args += ["--perms", "0755", "--dir", "/home"]
        args += self._tmpfs(HOME)
        if self._size:
            # The submission is copied by the runner into the size-limited home, so that a
            # notebook that writes without end fills a small tmpfs, not the grader's disk.
            args += ["--ro-bind", str(scratch), SUBMISSION, "--chdir", HOME]
        else:
            args += ["--bind", str(scratch), workdir, "--chdir", workdir]
        return args

    def _tmpfs(self, path: str) -> list[str]:
        size = ["--size", str(self.limits.tmpfs_mb * 2**20)] if self._size else []
        return ["--perms", "1777", *size, "--tmpfs", path]

    def env(self) -> dict:
        env = {
            "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": HOME if self.enabled else os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TMPDIR": "/tmp",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "IPYTHONDIR": "/tmp/ipython",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NBGRADER_EXECUTION": "autograde",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        if not self.enabled:
            env["MPLCONFIGDIR"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "mpl-autograde")
            env["IPYTHONDIR"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "ipython-autograde")
            env["TMPDIR"] = os.environ.get("TMPDIR", "/tmp")
        return env

    def command(self, scratch: Path, workdir: str, etc_dir: Path, fd: int) -> list[str]:
        runner = [
            sys.executable,
            "-I",
            "-m",
            "lstm_course.autograde._runner",
            "--result-fd",
            str(fd),
        ]
        if not self.enabled:
            return runner
        return [*self._bwrap_args(scratch, workdir, etc_dir), "--", *runner]

    # -- probing ------------------------------------------------------------------------
    def probe(self, tmp: Path) -> None:
        """Start a real sandbox once; raise SandboxUnavailable with the reason if it fails."""
        if not self.bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed; install the 'bubblewrap' package "
                "(Debian/Ubuntu: apt-get install bubblewrap) or pass --allow-unsandboxed"
            )
        scratch = tmp / "probe"
        scratch.mkdir(parents=True, exist_ok=True)
        etc_dir = self.write_etc(tmp / "probe-etc", uid=self.slot_uid(0))
        if self.as_root:
            os.chown(scratch, self.slot_uid(0), self.slot_uid(0))
        check = "import numpy, lstm_ref, IPython"
        cmd = [*self._bwrap_args(scratch, f"{HOME}/probe", etc_dir), "--"]
        cmd += [sys.executable, "-I", "-c", check]
        try:
            out = subprocess.run(
                cmd, capture_output=True, text=True, timeout=60, env=self.env(), cwd="/"
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxUnavailable(f"could not start bubblewrap: {exc}") from exc
        if out.returncode != 0:
            raise SandboxUnavailable(
                "bubblewrap is installed but cannot create a sandbox here "
                f"(exit {out.returncode}): {out.stderr.strip()[-800:]}. On Ubuntu 24.04 and later, "
                "unprivileged user namespaces may be restricted by AppArmor; see the instructors' "
                "page. Or pass --allow-unsandboxed."
            )

    def slot_uid(self, slot: int) -> int | None:
        return ROOT_UID_BASE + slot if (self.as_root and self.enabled) else None

    def write_etc(self, folder: Path, uid: int | None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        u = uid if uid is not None else os.getuid()
        g = uid if uid is not None else os.getgid()
        (folder / "passwd").write_text(f"student:x:{u}:{g}:student:{HOME}:/bin/sh\n")
        (folder / "group").write_text(f"student:x:{g}:\n")
        return folder

    # -- running ------------------------------------------------------------------------
    def run(self, job: dict, scratch: Path, workdir: str, private: Path, slot: int) -> RunResult:
        """Run the job's cells in a sandbox; always returns, whatever the notebook does."""
        limits = self.limits
        uid = self.slot_uid(slot)
        nonce = secrets.token_hex(16)
        job = dict(job, uid=uid, limits=limits.rlimits(), nonce=nonce)
        job["max_cell_output"] = limits.max_cell_output
        job["max_output"] = limits.max_output
        job["cell_timeout"] = limits.cell_timeout
        if self.enabled and self._size:
            job["copy_from"], job["workdir"] = SUBMISSION, workdir
        if not self.as_root and self.enabled:
            job["limits"]["nproc"] = _user_process_count() + limits.nproc
        if not self.enabled:
            job["limits"]["nproc"] = None  # would count all the instructor's processes
        etc_dir = self.write_etc(private / "etc", uid)
        if uid is not None:
            for dirpath, _dirnames, filenames in os.walk(scratch):
                os.chown(dirpath, uid, uid)
                for name in filenames:
                    os.lchown(os.path.join(dirpath, name), uid, uid)
        rfd, wfd = os.pipe()
        result = RunResult()
        cmd = self.command(scratch, workdir, etc_dir, wfd)
        err_path = private / "stderr.txt"
        t0 = time.monotonic()
        with open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    pass_fds=(wfd,),
                    env=self.env(),
                    cwd=str(scratch) if not self.enabled else "/",
                    start_new_session=True,
                )
            except OSError as exc:
                os.close(rfd)
                os.close(wfd)
                result.failure = f"the sandbox could not be started: {exc}"
                return result
            os.close(wfd)
            try:
                proc.stdin.write(json.dumps(job).encode("utf-8"))
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            watch(proc, rfd, result, t0, nonce, self.limits)
        result.wall_s = time.monotonic() - t0
        try:
            with open(err_path, "rb") as fh:
                fh.seek(max(0, err_path.stat().st_size - 4000))
                result.stderr_tail = fh.read().decode("utf-8", "replace")
        except OSError:
            pass
        explain_end(result, proc.returncode)
        return result


def _user_process_count() -> int:
    """Processes and threads of this uid (what RLIMIT_NPROC counts)."""
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count
