"""Run a notebook as two sandboxed processes: the answer process (A) and the verifier (V).

This module builds both bubblewrap sandboxes, connects them with two pipes (V asks, A answers:
``_rpc``) and starts them; ``channel`` reads V's results and stops both at the limits.

Both sandboxes see a read-only ``/usr``, the Python installation and virtual environment, fresh
``/proc``, ``/dev`` and ``/tmp``, and a size-limited tmpfs home. They have no network (an empty
network namespace), their own PID namespace (everything they start dies with them), cannot make
user namespaces (``--disable-userns``, or no user namespace at all as root), and see nothing of
the course directory: not ``solutions/``, not the gradebook, not other submissions.

- A gets the submission's files (copied by A into its home from a read-only bind) and, in place
  of the course's packages, the filtered copy ``policy`` describes: no reference, no grading
  helpers; for a NumPy-only exercise an empty folder hides PyTorch.
- V gets the real packages and nothing of the submission: it only ever sees A's answers.

Each runs under its own unprivileged uid when the grader is root (so ``RLIMIT_NPROC`` counts it
alone) and, where the machine allows (``cgroup``), in a control group of its own that limits its
memory and processes as a whole.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import lstm_course
import lstm_ref
from lstm_course.autograde import policy
from lstm_course.autograde.cgroup import Cgroups
from lstm_course.autograde.channel import RunResult, explain_end, watch

HOME = "/home/student"
SUBMISSION = "/home/student/.submission"  # read-only copy the runner starts from
ROOT_UID_BASE = 2_000_000_000  # uids used for sandboxes when the grader runs as root
VERIFIER_UID_OFFSET = 100_000  # V's uid is A's plus this


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


@dataclass
class Limits:
    """Resource limits of one sandboxed notebook run."""

    cell_timeout: float = 60.0  # seconds of wall time per cell
    notebook_timeout: float = 600.0  # seconds of wall time per notebook (also the CPU limit)
    memory_mb: int = 4096  # address space per process, and memory per sandbox (cgroup)
    nproc: int = 64  # processes and threads of the sandbox's uid (and cgroup)
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
    """Builds bubblewrap command lines and runs a notebook's two processes in them."""

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
        self.cgroups = Cgroups() if enabled else Cgroups.__new__(Cgroups)
        if not enabled:
            self.cgroups.mode, self.cgroups.base = None, []
        self._packages: dict[tuple, list[tuple[Path, Path]]] = {}
        self._lock = threading.Lock()

    def userns_blocked(self) -> bool:
        """Whether code in the sandbox cannot create a user namespace."""
        return self.as_root or self._disable_userns

    # -- command line -------------------------------------------------------------------------
    def _bwrap_args(
        self, etc_dir: Path, overlays: list[tuple[Path, Path]], masks: list[Path]
    ) -> list[str]:
        args = [self.bwrap or "bwrap"]
        if self.as_root:
            # No user namespace: the process switches to an unprivileged uid itself, and its
            # seccomp filter (``_seccomp``) refuses it a user namespace of its own.
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
        for src, dest in overlays:  # the filtered packages, over the real ones
            args += ["--ro-bind", str(src), str(dest)]
        for dest in masks:  # packages the exercise forbids: an empty folder in their place
            args += ["--perms", "0555", "--tmpfs", str(dest)]
        args += ["--perms", "0755", "--dir", "/home"]
        args += self._tmpfs(HOME)
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

    # -- what A's sandbox holds ---------------------------------------------------------------
    def answer_overlays(self, work: Path, given: set[str]) -> list[tuple[Path, Path]]:
        """The filtered packages (built once per set of given functions), as (copy, real dir)."""
        key = tuple(sorted(given & set(policy.GIVEN_FROM_REFERENCE)))
        with self._lock:
            if key not in self._packages:
                dest = work / f"answer-packages-{len(self._packages)}"
                self._packages[key] = build_answer_packages(dest, set(key))
            return self._packages[key]

    @staticmethod
    def torch_masks() -> list[Path]:
        masks = []
        for name in policy.TORCH_PACKAGES:
            spec = importlib.util.find_spec(name)
            for location in (spec.submodule_search_locations or []) if spec else []:
                masks.append(Path(location))
        return masks

    # -- probing ------------------------------------------------------------------------------
    def probe(self, tmp: Path) -> None:
        """Start a real sandbox once; raise SandboxUnavailable with the reason if it fails."""
        if not self.bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed; install the 'bubblewrap' package "
                "(Debian/Ubuntu: apt-get install bubblewrap) or pass --allow-unsandboxed"
            )
        etc_dir = self.write_etc(tmp / "probe-etc", uid=self.slot_uid(0))
        check = "import numpy, lstm_ref, IPython"
        cmd = [*self._bwrap_args(etc_dir, [], []), "--chdir", HOME, "--"]
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

    # -- running ------------------------------------------------------------------------------
    def _limits(self, uid: int | None) -> dict:
        limits = self.limits.rlimits()
        if not self.as_root and self.enabled:
            limits["nproc"] = _user_process_count() + self.limits.nproc
        if not self.enabled:
            limits["nproc"] = None  # would count all the instructor's processes
        return limits

    def run(
        self,
        job: dict,
        answer_job: dict,
        scratch: Path,
        workdir: str,
        private: Path,
        slot: int,
        masks: list[Path] | None = None,
        given: set[str] | None = None,
    ) -> RunResult:
        """Run the notebook: A on the submission in ``scratch``, V on ``job``'s cells; always
        returns, whatever the notebook does."""
        lim = self.limits
        uid_a = self.slot_uid(slot)
        uid_v = None if uid_a is None else uid_a + VERIFIER_UID_OFFSET
        common = {
            "sandboxed": self.enabled,
            "cell_timeout": lim.cell_timeout,
            "max_cell_output": lim.max_cell_output,
            "max_output": lim.max_output,
        }
        job = dict(job, **common, uid=uid_v, limits=self._limits(uid_v))
        job["salt"] = secrets.token_hex(16)
        answer_job = dict(answer_job, **common, uid=uid_a, limits=self._limits(uid_a))
        if self.enabled and self._size:
            answer_job["copy_from"], answer_job["workdir"] = SUBMISSION, workdir
        groups_a: list[Path] = []
        try:  # one group per process; never run without the limit that was promised
            groups_a = self.cgroups.create(lim.memory_mb, lim.nproc)
            groups_v = self.cgroups.create(lim.memory_mb, lim.nproc)
        except OSError as exc:
            self.cgroups.remove(groups_a)
            return RunResult(failure=f"the sandbox could not be started: {exc}")
        etc_a = self.write_etc(private / "etc-a", uid_a)
        etc_v = self.write_etc(private / "etc-v", uid_v)
        if uid_a is not None:
            for dirpath, _dirnames, filenames in os.walk(scratch):
                os.chown(dirpath, uid_a, uid_a)
                for name in filenames:
                    os.lchown(os.path.join(dirpath, name), uid_a, uid_a)
        a_in, v_out = os.pipe()  # V -> A
        v_in, a_out = os.pipe()  # A -> V
        rfd, wfd = os.pipe()  # V -> grader
        cmd_a = [sys.executable, "-I", "-m", "lstm_course.autograde._answer"]
        cmd_a += ["--in-fd", str(a_in), "--out-fd", str(a_out)]
        cmd_v = [sys.executable, "-I", "-m", "lstm_course.autograde._verifier"]
        cmd_v += ["--in-fd", str(v_in), "--out-fd", str(v_out), "--result-fd", str(wfd)]
        if self.enabled:
            overlays = self.answer_overlays(private.parent, given or set())
            bw_a = self._bwrap_args(etc_a, overlays, masks or [])
            if self._size:
                bw_a += ["--ro-bind", str(scratch), SUBMISSION, "--chdir", HOME]
            else:
                bw_a += ["--bind", str(scratch), workdir, "--chdir", workdir]
            cmd_a = [*bw_a, "--", *cmd_a]
            cmd_v = [*self._bwrap_args(etc_v, [], []), "--chdir", HOME, "--", *cmd_v]
        cmd_a = Cgroups.join_command(groups_a, cmd_a)
        cmd_v = Cgroups.join_command(groups_v, cmd_v)
        result = RunResult()
        procs: list[subprocess.Popen] = []
        t0 = time.monotonic()
        try:
            for cmd, fds, data, err, cwd in (
                (cmd_a, (a_in, a_out), answer_job, "stderr-a.txt", str(scratch)),
                (cmd_v, (v_in, v_out, wfd), job, "stderr-v.txt", str(private)),
            ):
                with open(private / err, "wb") as fh:
                    proc = subprocess.Popen(
                        cmd,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=fh,
                        pass_fds=fds,
                        env=self.env(),
                        cwd=cwd if not self.enabled else "/",
                        start_new_session=True,
                    )
                procs.append(proc)
                try:
                    proc.stdin.write(json.dumps(data).encode("utf-8"))
                    proc.stdin.close()
                except (BrokenPipeError, OSError):
                    pass
        except OSError as exc:
            result.failure = f"the sandbox could not be started: {exc}"
        finally:
            for fd in (a_in, a_out, v_in, v_out, wfd):
                os.close(fd)
        if len(procs) == 2:
            watch(procs, rfd, result, t0, self.limits)
        else:
            for proc in procs:
                proc.kill()
                proc.wait()
            os.close(rfd)
        result.wall_s = time.monotonic() - t0
        result.stderr_tail = _tail(private / "stderr-a.txt")
        result.verifier_stderr = _tail(private / "stderr-v.txt")
        self.cgroups.remove(groups_a + groups_v)
        if len(procs) == 2:
            explain_end(result, procs[0].returncode, procs[1].returncode)
        return result


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 4000))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def build_answer_packages(dest: Path, given: set[str]) -> list[tuple[Path, Path]]:
    """A copy of the course's packages with only what ``policy.ANSWER_FILES`` names, plus the
    given functions as a stand-in ``lstm_ref.np_ref``; returns (copy, real folder) pairs."""
    pairs = []
    for package in (lstm_ref, lstm_course):
        real = Path(package.__file__).resolve().parent
        copy = dest / real.name
        for rel in policy.ANSWER_FILES[real.name]:
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            if (real / rel).is_file():
                shutil.copyfile(real / rel, copy / rel)
        pairs.append((copy, real))
    if given:
        from lstm_ref.np_ref import _common

        lines = [
            '"""In the student\'s sandbox, the reference holds only what the release gives."""',
            "",
            "import numpy as np",
            "",
        ]
        for name in sorted(given):
            helper = getattr(_common, policy.GIVEN_FROM_REFERENCE[name])
            lines += ["", inspect.getsource(helper), "", f"def {name}(z):"]
            lines += [f"    return {helper.__name__}(np.asarray(z, dtype=float))", ""]
        (dest / "lstm_ref" / "np_ref").mkdir()
        (dest / "lstm_ref" / "np_ref" / "__init__.py").write_text("\n".join(lines))
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return pairs


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
