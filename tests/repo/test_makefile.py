"""The Makefile's commands: what each one runs, and in which order (read from `make -n`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def targets_and_phony():
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", text, flags=re.M))
    phony = set(" ".join(re.findall(r"^\.PHONY:(.*)$", text, flags=re.M)).split())
    return targets, phony


def dry_run(target: str) -> list[str]:
    """The commands `make <target>` would run, one per line, without running them."""
    proc = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return proc.stdout.splitlines()


def first_line_with(lines: list[str], text: str) -> int:
    found = [k for k, line in enumerate(lines) if text in line]
    assert found, f"no command contains {text!r}:\n" + "\n".join(lines)
    return found[0]


def test_every_command_target_is_phony():
    targets, phony = targets_and_phony()
    assert {"book", "test", "test-fast", "bench", "release", "autograde", "grades"} <= targets
    assert targets <= phony, f"not declared .PHONY: {sorted(targets - phony)}"


def test_make_book_runs_even_though_a_book_folder_exists():
    assert (ROOT / "book").is_dir()
    assert any("jupyter-book build" in line for line in dry_run("book"))


def test_make_test_sets_up_the_system_packages_before_pytest():
    lines = dry_run("test")
    assert first_line_with(lines, ".ci/system-packages") < first_line_with(lines, "-m pytest")


def test_ci_installs_through_the_same_script_and_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert ".ci/system-packages" in text and "make test" in text
    assert "apt-get" not in text, "the packages are named in .ci/system-packages alone"


def test_make_test_fast_leaves_out_the_slow_tests():
    lines = dry_run("test-fast")
    pytest_line = lines[first_line_with(lines, "-m pytest")]
    assert re.search(r"-m ['\"]not slow['\"]", pytest_line), pytest_line
    assert not any(".ci/system-packages" in line for line in lines), "nothing slow needs them"


def test_make_bench_unsets_the_openblas_overrides_for_itself_only():
    bench = dry_run("bench")
    line = bench[first_line_with(bench, "bench_lstm.py")]
    for name in OPENBLAS_OVERRIDES:
        assert f"-u {name}" in line, line
    for target in ("test", "test-fast"):
        assert not any(name in cmd for cmd in dry_run(target) for name in OPENBLAS_OVERRIDES)
    assert not any(name in (ROOT / ".ci" / "run").read_text() for name in OPENBLAS_OVERRIDES)
