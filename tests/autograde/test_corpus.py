"""Every case of the corpus, graded end to end by ``python -m lstm_course.autograde``.

Each case states the score it must get (full, zero, partial, or relative to the honest wrong
submission ``wrong``), the reason the summary must give when it did not run to the end, whether
it must be flagged for review, and what the grader's notes must say.
"""

from __future__ import annotations

import pytest
from autograde_harness import ASSIGNMENT, load_cases

CASES = load_cases().CASES


def test_the_run_completes_and_grades_every_submission(graded):
    assert graded.returncode == 0, graded.stderr[-3000:]
    graded_ids = {s["student"] for s in graded.summary["submissions"]}
    assert graded_ids == set(graded.students)
    assert graded.summary["sandbox"] is True
    assert graded.summary["graded"] == len(graded.students)
    for sid in graded.students:
        assert (graded.course / "autograded" / sid / ASSIGNMENT).is_dir(), sid


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(graded, name):
    spec = CASES[name]
    entry = graded.student(name)
    score, max_score = entry["score"], entry["max_score"]
    baseline = graded.student("wrong")["score"]
    assert max_score > 0, entry
    expected = spec["score"]
    if expected == "full":
        assert score == max_score, entry
    elif expected == "zero":
        assert score == 0, entry
    elif expected == "partial":
        assert 0 < score < max_score, entry
    elif expected == "baseline":
        assert score == baseline, (baseline, entry)
    elif expected == "at_most_baseline":
        assert score <= baseline, (baseline, entry)
    else:
        raise AssertionError(f"unknown expectation {expected}")
    failures = " ".join(entry["failures"])
    if spec["failure"]:
        assert spec["failure"] in failures, entry
    else:
        assert not entry["failures"], entry
    assert bool(entry["flags"]) == spec["flagged"], entry
    if spec["note"]:
        assert spec["note"] in " ".join(entry["notes"]), entry


def test_wrong_baseline_is_partial_so_attacks_could_raise_it(graded):
    """The attacks start from a submission that loses points: a forged pass would show."""
    entry = graded.student("wrong")
    assert 0 < entry["score"] < entry["max_score"]


@pytest.mark.parametrize("name", ["empty_file", "invalid_json", "missing_notebook", "kernel_crash"])
def test_reason_reaches_the_feedback_notebook(graded, name):
    """A submission that could not run says why at the top of its graded notebook."""
    nb = graded.notebook(name)
    first = "".join(nb["cells"][0]["source"])
    assert "Grader" in first and graded.student(name)["failures"][0].split(": ", 1)[1] in first


def test_huge_output_is_cut_in_the_graded_notebook(graded):
    path = graded.course / "autograded" / "corpus-huge-output" / ASSIGNMENT
    size = (path / f"{ASSIGNMENT[5:]}.ipynb").stat().st_size
    assert size < 2 * 2**20, size
    assert "output truncated" in (path / f"{ASSIGNMENT[5:]}.ipynb").read_text()


def test_extra_files_are_kept_but_not_links_or_huge_files(graded):
    path = graded.course / "autograded" / "corpus-extra-files" / ASSIGNMENT
    assert (path / "helper.py").read_text().startswith("GREETING")
    assert (path / "notes" / "more.txt").exists()
    assert not (path / "gradebook_link.db").exists()
    assert not (path / "big.bin").exists()


def test_infinite_loop_is_interrupted_and_the_rest_runs(graded):
    nb = graded.notebook("infinite_loop")
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["CellTimeout"]


def test_attack_during_a_test_is_flagged_and_changes_nothing(graded):
    """Patching NumPy and the grading helpers from inside the answer changes only the student's
    own process: the tests, in the verifier, fail on the wrong values, and the patch is named."""
    entry = graded.student("attack_patch_during_test")
    assert entry["score"] <= graded.student("wrong")["score"]
    assert any("numpy.allclose" in flag for flag in entry["flags"]), entry["flags"]
