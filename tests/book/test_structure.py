"""The book's structure: each chapter ends with its exercise, and the toc lists what exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = {  # chapter -> the exercise(s) its closing admonition must link
    "01_rnn_vs_lstm": ["ex01_rnn/rnn"],
    "02_lstm_cell": ["ex05_lstm_forward/lstm_forward"],
    "03_forget_gate": ["ex02_forget_gate/forget_gate"],
    "04_input_gate": ["ex03_input_gate/input_gate"],
    "05_output_gate": ["ex04_output_gate/output_gate", "ex06_bptt/bptt"],
    "06_pytorch": ["ex07_pytorch/pytorch"],
    "07_variants": ["ex08_variants/variants"],
    "08_project": ["ex09_project/project"],
}


@pytest.mark.parametrize("chapter", sorted(EXERCISE))
def test_chapter_ends_with_a_link_to_its_exercise(chapter):
    """Check that the chapter's last admonition links its exercise notebooks, which exist."""
    text = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    last = text[text.rindex("```{admonition} Exercise") :]
    for name in EXERCISE[chapter]:
        assert f"{{doc}}`/exercises/{name}`" in last, f"{chapter}.md does not end with {name}"
        assert (ROOT / "exercises" / f"{name}.ipynb").is_file(), f"exercises/{name}.ipynb missing"


def test_toc_lists_chapters_then_exercises_then_appendices():
    """Check the order of the parts and that every exercise notebook that exists is listed."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["Chapters", "Exercises", "Appendices"], captions
    listed = {entry["file"] for entry in toc["parts"][1]["chapters"]}
    existing = {
        str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "exercises").glob("*/*.ipynb")
    }
    assert listed == existing, f"in the toc only: {listed - existing}; missing: {existing - listed}"


def test_every_labelled_equation_is_unique():
    """Check that no equation label is defined twice across the chapters."""
    labels = re.findall(r":label: (\S+)", "".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").glob("*.md"))
    ))  # fmt: skip
    duplicates = {label for label in labels if labels.count(label) > 1}
    assert not duplicates, f"equation labels defined twice: {duplicates}"
