"""Fixtures of the autograde tests: one temporary course with the corpus, graded once."""

from __future__ import annotations

import autograde_harness  # noqa: E402
import pytest


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> autograde_harness.Graded:
    return autograde_harness.grade_corpus(tmp_path_factory)
