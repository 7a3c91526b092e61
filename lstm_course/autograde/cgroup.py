"""A memory and process limit for each sandbox as a whole, where the machine allows one.

``RLIMIT_AS`` and ``RLIMIT_NPROC`` limit one process (and one uid); a notebook that forks can
hold the memory limit in every child. A control group limits the sandbox's processes together:
``memory.max``/``pids.max`` (cgroup v2, in a subtree of the grader's own group that it may write)
or ``memory.limit_in_bytes``/``pids.max`` (cgroup v1 hierarchies it may write, e.g. as root).
The runner joins the group before bubblewrap starts (a shell writes its own pid, then execs), so
nothing the notebook starts escapes it. Where neither is writable, ``where`` says so and only
the per-process limits hold; the instructors' page says what holds where.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "lstm-autograde-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


class Cgroups:
    """Creates one group per sandbox; ``available`` is False where none can be made."""

    def __init__(self):
        self.mode = None
        self.base: list[Path] = []
        v2_own = self._v2_own()
        if (ROOT / "cgroup.controllers").exists() and v2_own is not None:
            wanted = {"memory", "pids"}
            try:
                enabled = set((v2_own / "cgroup.subtree_control").read_text().split())
            except OSError:
                enabled = set()
            if wanted <= enabled and _writable(v2_own):
                self.mode, self.base = "v2", [v2_own]
        elif _writable(ROOT / "memory") and _writable(ROOT / "pids"):
            self.mode, self.base = "v1", [ROOT / "memory", ROOT / "pids"]
        if self.mode:
            self._remove_stale()
        if self.mode and not self._try():
            self.mode, self.base = None, []

    @staticmethod
    def _v2_own() -> Path | None:
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                if line.startswith("0::"):
                    return ROOT / line[3:].lstrip("/")
        except OSError:
            return None
        return None

    @property
    def available(self) -> bool:
        return self.mode is not None

    def where(self) -> str:
        if self.mode == "v2":
            return "a cgroup v2 group per sandbox (memory.max, pids.max)"
        if self.mode == "v1":
            return "a cgroup v1 group per sandbox (memory.limit_in_bytes, pids.max)"
        return "no cgroup could be created here: per-process limits only (RLIMIT_AS, RLIMIT_NPROC)"

    def _try(self) -> bool:
        try:
            groups = self._create(64, 8)
        except OSError:
            return False
        self.remove(groups)
        return True

    def _remove_stale(self) -> None:
        """Removes the groups that killed runs left behind: those whose grader (the pid in the
        name) is gone. A live grader's group may be empty for a moment before its sandbox joins
        it; a group with a process in it cannot be removed (rmdir fails) and stays."""
        for base in self.base:
            for group in base.glob(PREFIX + "*"):
                pid = group.name[len(PREFIX) :].split("-")[0]
                if not pid.isdigit() or _alive(int(pid)):
                    continue
                try:
                    group.rmdir()
                except OSError:
                    pass

    def create(self, memory_mb: int, pids: int) -> list[Path]:
        """New groups (one per hierarchy) with the limits set.

        Raises OSError if they cannot be made where groups could be made before: the caller
        must not run a notebook without the limit it was promised. A random name, so that a
        group left by a killed run whose pid came round again is never reused.
        """
        if not self.base:
            return []
        last: OSError | None = None
        for _ in range(3):
            try:
                return self._create(memory_mb, pids)
            except OSError as exc:
                last = exc
                time.sleep(0.1)
        raise OSError(f"no control group could be created ({self.where()}): {last}")

    def _create(self, memory_mb: int, pids: int) -> list[Path]:
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        made: list[Path] = []
        try:
            for base in self.base:
                group = base / name
                group.mkdir()
                made.append(group)
                if self.mode == "v2":
                    (group / "memory.max").write_text(str(memory_mb * 2**20))
                    swap = group / "memory.swap.max"
                    if swap.exists():
                        swap.write_text("0")
                    (group / "pids.max").write_text(str(pids))
                elif base.name == "memory":
                    (group / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))
                    swap = group / "memory.memsw.limit_in_bytes"  # memory + swap, if accounted
                    if swap.exists():
                        swap.write_text(str(memory_mb * 2**20))
                else:
                    (group / "pids.max").write_text(str(pids))
        except OSError:
            self.remove(made)
            raise
        return made

    @staticmethod
    def join_command(groups: list[Path], command: list[str]) -> list[str]:
        """``command``, started by a shell that first moves itself into ``groups``."""
        if not groups:
            return command
        script = "".join(f'echo $$ > "${k + 1}" && ' for k in range(len(groups)))
        script += f'shift {len(groups)} && exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *(str(g / "cgroup.procs") for g in groups), *command]

    @staticmethod
    def remove(groups: list[Path]) -> None:
        for group in groups:
            for _ in range(20):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
