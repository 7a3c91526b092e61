"""Rules for the whole test suite: which tests are slow, and which need a system package.

Both are decided here, from what a test uses, so that the test modules need no marker of their own:

- slow: a test that builds the site or runs the grading pipeline, that is one that uses an
  expensive fixture below, directly or through another fixture. `make test-fast` runs
  `pytest -m "not slow"`; a slow test that uses none of them carries `@pytest.mark.slow` itself.
- system packages: a test that opens the site in Chromium, or grades in the bubblewrap sandbox,
  is skipped without that package, with one line in the summary saying what to install; under
  CI (CI=true) it fails instead. `make test` and `.ci/run` install the packages first when they
  can (.ci/system-packages).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; tests/book/conftest.py launches it

# The fixtures that build the site or grade notebooks (from a quarter of a minute to minutes).
EXPENSIVE_FIXTURES = {
    "built_site": "builds the site with jupyter-book (tests/book/conftest.py)",
    "graded": "grades submissions with nbgrader (tests/exercises) or in the sandbox (tests/autograde)",
    "every_assignment": "grades every assignment in the sandbox (tests/autograde)",
    "runs": "grades the attack corpus in the sandbox (tests/autograde)",
    "course": "releases an assignment with nbgrader, to grade or record into (tests/autograde)",
}
# tests/autograde's slow tests run `python -m lstm_course.autograde`, which refuses to grade
# without bubblewrap, or check what such a run recorded: without bubblewrap they are all skipped
# (tests/exercises' run nbgrader alone, outside any sandbox).
SANDBOXED = TESTS / "autograde"


def is_slow(item: pytest.Item) -> bool:
    uses = set(getattr(item, "fixturenames", ()))
    return bool(EXPENSIVE_FIXTURES.keys() & uses) or item.get_closest_marker("slow") is not None


def package_needed(item: pytest.Item) -> str | None:
    """The Debian package a test cannot run without, if any."""
    if "browser" in getattr(item, "fixturenames", ()):
        return "chromium"
    if item.path.is_relative_to(SANDBOXED) and is_slow(item):
        return "bubblewrap"
    return None


def installed(package: str) -> bool:
    if package == "chromium":
        return CHROMIUM.exists()
    if package == "bubblewrap":
        return shutil.which("bwrap") is not None
    raise ValueError(f"package: expected 'chromium' or 'bubblewrap', got {package!r}")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(package: str) -> None:
    """Skip the calling test when `package` is missing (one summary line for all); fail under CI."""
    if installed(package):
        return
    message = (
        f"{package} is not installed: sudo apt-get install {package} (`make test` as root does)"
    )
    if under_ci():
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture runs, so that a missing package costs no site build and no grading."""
    package = package_needed(item)
    if package:
        require(package)
