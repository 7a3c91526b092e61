"""The per-sandbox control groups: limits written, stale groups cleaned, no silent fallback.

The memory-across-forks attack (test_attacks) proves the limit holds; these check what made it
flaky: a group name reused from a killed run, and a failed creation that let the notebook run
with per-process limits only.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from lstm_course.autograde import cgroup
from lstm_course.autograde.cgroup import PREFIX, Cgroups

groups = Cgroups()
needs_cgroups = pytest.mark.skipif(not groups.available, reason="no writable cgroup here")


@needs_cgroups
def test_a_group_gets_the_limits_it_was_asked_for():
    made = groups.create(123, 7)
    try:
        for group in made:
            if (group / "memory.limit_in_bytes").exists():
                assert int((group / "memory.limit_in_bytes").read_text()) == 123 * 2**20
            if (group / "memory.max").exists():
                assert int((group / "memory.max").read_text()) == 123 * 2**20
            if (group / "pids.max").exists():
                assert (group / "pids.max").read_text().strip() == "7"
        assert len({g.name for g in made}) == 1, made
    finally:
        groups.remove(made)
    assert not any(g.exists() for g in made)


@needs_cgroups
def test_groups_of_dead_graders_are_removed_and_live_ones_kept():
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now
    stale = [base / f"{PREFIX}{dead.pid}-0" for base in groups.base]
    live = [base / f"{PREFIX}{os.getpid()}-live" for base in groups.base]
    for group in stale + live:
        group.mkdir()
    try:
        Cgroups()
        assert not any(g.exists() for g in stale)
        assert all(g.exists() for g in live)
    finally:
        groups.remove(stale + live)


@needs_cgroups
def test_a_group_that_cannot_be_made_is_an_error_not_a_silent_fallback(tmp_path, monkeypatch):
    broken = Cgroups()
    broken.base = [tmp_path / "missing"]
    monkeypatch.setattr(cgroup.time, "sleep", lambda s: None)
    with pytest.raises(OSError, match="no control group could be created"):
        broken.create(100, 8)
