"""The system packages the tests need (bubblewrap, Chromium): installed when missing and allowed,
otherwise their tests are skipped with one line saying what to install, and under CI they fail.

.ci/system-packages runs here against fake `id`, `apt-get` and `sudo` commands on an otherwise
empty PATH, so that nothing is installed for real; tests/conftest.py's rule is called directly.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "system-packages"


def fake_bin(tmp_path: Path, uid: int, present=(), sudo=False) -> Path:
    """A PATH folder holding a fake `id` and `apt-get` (which log their calls), and `present`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "calls.log"
    scripts = {
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": f'#!/bin/sh\necho "apt-get $*" >> {log}\n',
        **{name: "#!/bin/sh\nexit 0\n" for name in present},
    }
    if sudo:
        scripts["sudo"] = f'#!/bin/sh\necho "sudo $1" >> {log}\nexec "$@"\n'
    for name, text in scripts.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


def run_script(tmp_path, uid, present=(), chromium=False, sudo=False, ci=None):
    folder = fake_bin(tmp_path, uid, present, sudo)
    browser = tmp_path / "chromium"
    if chromium:
        browser.write_text("#!/bin/sh\n")
        browser.chmod(0o755)
    initdb = tmp_path / "postgresql" / "16" / "bin" / "initdb"  # present, where it is asked for
    initdb.parent.mkdir(parents=True)
    initdb.write_text("#!/bin/sh\n")
    initdb.chmod(0o755)
    environ = {"PATH": str(folder), "CHROMIUM": str(browser), "POSTGRES": str(initdb.parents[2])}
    if ci is not None:
        environ["CI"] = ci
    proc = subprocess.run(
        [shutil.which("bash"), str(SCRIPT)], env=environ, capture_output=True, text=True
    )
    log = tmp_path / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls


def test_nothing_missing_means_no_apt_get_at_all(tmp_path):
    proc, calls = run_script(tmp_path, uid=0, present=("bwrap", "make"), chromium=True)
    assert proc.returncode == 0, proc.stderr
    assert calls == [] and proc.stdout == "" and proc.stderr == ""


def test_root_installs_only_what_is_missing(tmp_path):
    proc, calls = run_script(tmp_path, uid=0, present=("make",), chromium=True)
    assert proc.returncode == 0, proc.stderr
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install") and calls[1].split()[-1] == "bubblewrap", calls
    assert len(calls) == 2


def test_without_root_one_line_says_what_to_install_and_the_tests_go_on(tmp_path):
    proc, calls = run_script(tmp_path, uid=1000, present=("make",), sudo=True)
    assert proc.returncode == 0 and calls == []  # never asks for a password outside CI
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "apt-get install bubblewrap chromium" in lines[0], lines


def test_under_ci_sudo_installs_what_is_missing(tmp_path):
    proc, calls = run_script(tmp_path, uid=1000, present=("bwrap", "make"), sudo=True, ci="true")
    assert proc.returncode == 0, proc.stderr
    assert calls[:2] == ["sudo apt-get", "apt-get update -qq"]
    assert calls[-1].split()[-1] == "chromium", calls


def test_under_ci_a_package_that_cannot_be_installed_is_an_error(tmp_path):
    proc, calls = run_script(tmp_path, uid=1000, present=("make",), chromium=True, ci="true")
    assert proc.returncode != 0 and calls == []
    assert "apt-get install bubblewrap" in proc.stderr


# -- tests/conftest.py: skip outside CI, fail under CI ------------------------------------------


@pytest.fixture
def rules(monkeypatch):
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module.shutil, "which", lambda name: None)  # no bwrap on the PATH
    monkeypatch.setattr(module, "CHROMIUM", Path("/nonexistent/chromium"))
    return module


@pytest.mark.parametrize("package", ["bubblewrap", "chromium"])
def test_a_missing_package_skips_with_what_to_install(rules, monkeypatch, package):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"apt-get install {package}"):
        rules.require(package)


@pytest.mark.parametrize("package", ["bubblewrap", "chromium"])
def test_under_ci_a_missing_package_fails(rules, monkeypatch, package):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"apt-get install {package}"):
        rules.require(package)


def test_without_bubblewrap_the_sandbox_tests_skip_with_one_line(tmp_path):
    """End to end: no bwrap on the PATH, so the grading never starts and one line says why."""
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ["PATH"] = str(Path(sys.executable).parent)  # the virtual environment's bin alone
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path),
        ]
        + ["tests/autograde/test_sandbox.py"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "apt-get install bubblewrap" in skipped[0], proc.stdout[-3000:]
    assert re.search(r"\b\d+ skipped", proc.stdout) and "passed" not in proc.stdout


def test_ci_false_is_not_ci(rules, monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        rules.require("bubblewrap")


def test_slow_means_the_site_build_the_browser_and_the_grading_pipeline():
    """In the modules that build the site or grade, only the quick notebook checks are fast."""
    modules = [
        "tests/book/test_site.py",
        "tests/book/test_claims.py",
        "tests/exercises/test_pipeline.py",
        "tests/autograde/test_corpus.py",
        "tests/autograde/test_assignments.py",
        "tests/autograde/test_integrity.py",
        "tests/autograde/test_sandbox.py",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["-m", "not slow", *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    fast = {line.split("[")[0] for line in proc.stdout.splitlines() if "::" in line}
    assert fast == {
        "tests/exercises/test_pipeline.py::" + name
        for name in (
            "test_exercises_and_solutions_match",
            "test_committed_notebooks_carry_no_outputs",
            "test_numpy_assignments_do_not_import_torch",
            "test_every_assignment_plants_at_least_five_mistakes",
        )
    }, sorted(fast)
    deselected = re.search(r"(\d+) deselected", proc.stdout)
    assert deselected and int(deselected[1]) > 100, proc.stdout[-500:]
