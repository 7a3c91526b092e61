"""The book's structure: learning goals first, each chapter's exercise last, the toc lists what
exists, and no page speaks the language the course was authored in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = [Path(entry["file"]).name for entry in TOC["parts"][0]["chapters"]]
EXERCISE = {  # chapter -> the exercise(s) its closing admonition must link
    "01_rnn_vs_lstm": ["ex01_rnn/rnn"],
    "02_lstm_cell": ["ex02_lstm_cell/lstm_cell"],
    "03_forget_gate": ["ex03_forget_gate/forget_gate"],
    "04_input_gate": ["ex04_input_gate/input_gate"],
    "05_output_gate": ["ex05_output_gate/output_gate"],
    "06_bptt": ["ex06_bptt/bptt"],
    "07_pytorch": ["ex07_pytorch/pytorch"],
    "08_variants": ["ex08_variants/variants"],
    "09_training": ["ex09_training/training"],
    "10_project": ["ex10_project/project"],
    "11_char_lm": ["ex11_char_lm/char_lm"],
    "12_beyond": ["ex12_beyond/beyond"],
}
# Words that belong to how the course was written, not to what a reader has seen.
AUTHORING = re.compile(r"seed 00[0-4]|the notes|\bseeds?\b", re.IGNORECASE)


def chapter_text(chapter: str) -> str:
    return (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")


def prose(markdown: str) -> str:
    """The text a reader reads as prose: code cells, code blocks and inline code removed."""
    markdown = re.sub(r"^(`{3,})\s*\{code-cell\}.*?^\1\s*$", "", markdown, flags=re.S | re.M)
    markdown = re.sub(
        r"^(`{3,})\s*(python|bash|text)?\s*$.*?^\1\s*$", "", markdown, flags=re.S | re.M
    )
    return re.sub(r"`[^`\n]+`", "", markdown)


def test_every_chapter_has_one_exercise_in_chapter_order():
    """Check that each chapter in the toc has its exercise, numbered as the chapter, and that
    the toc lists the exercises in that order."""
    assert set(CHAPTERS) == set(EXERCISE), (
        f"toc only: {set(CHAPTERS) - set(EXERCISE)}; listed here only: "
        f"{set(EXERCISE) - set(CHAPTERS)}"
    )
    for chapter, names in EXERCISE.items():
        assert [n[2:4] for n in names] == [chapter[:2]], f"{chapter}: {names}"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (part,) = [p for p in toc["parts"] if p["caption"] == "Exercises"]
    listed = [c["file"].removeprefix("exercises/") for c in part["chapters"]]
    assert listed == [EXERCISE[c][0] for c in sorted(EXERCISE)]


@pytest.mark.parametrize("chapter", sorted(EXERCISE))
def test_chapter_ends_with_a_link_to_its_exercise(chapter):
    """Check that the chapter's last admonition links its exercise notebooks, which exist."""
    text = chapter_text(chapter)
    last = text[text.rindex("```{admonition} Exercise") :]
    for name in EXERCISE[chapter]:
        assert f"{{doc}}`/exercises/{name}`" in last, f"{chapter}.md does not end with {name}"
        assert (ROOT / "exercises" / f"{name}.ipynb").is_file(), f"exercises/{name}.ipynb missing"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_with_learning_goals(chapter):
    """Check that before its first section each chapter lists what the reader will learn."""
    text = chapter_text(chapter)
    head = text.split("\n## ", 1)[0]
    match = re.search(r"```\{admonition\} In this chapter you will\n(.*?)\n```", head, re.S)
    assert match, f"{chapter}.md has no 'In this chapter you will' admonition before its first ##"
    goals = [line for line in match.group(1).splitlines() if line.startswith("- ")]
    assert len(goals) >= 2, f"{chapter}.md lists {len(goals)} learning goal(s), expected 2 or more"


def reader_pages():
    pages = [p for p in sorted((ROOT / "book").rglob("*.md")) if "_build" not in p.parts]
    for path in pages:
        yield str(path.relative_to(ROOT)), prose(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join(
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c["cell_type"] == "markdown"
        )
        yield str(path.relative_to(ROOT)), prose(text)


def test_no_reader_page_speaks_of_seeds_or_the_notes():
    """Check that no chapter, appendix or exercise text mentions the authoring sources ("seed
    003", "the notes", "seeds"): readers never saw them; real sources are cited instead."""
    found = []
    for name, text in reader_pages():
        for line in text.splitlines():
            if AUTHORING.search(line):
                found.append(f"{name}: {line.strip()[:100]}")
    assert not found, "authoring language on reader pages:\n" + "\n".join(found)


def test_prose_filter_keeps_prose_and_drops_code():
    """Check the filter the previous test relies on: code cells and inline code go, prose stays."""
    sample = "A seed 003 here.\n```{code-cell} ipython3\nx = f(seed=0)\n```\nand `seed=1` there.\n"
    kept = prose(sample)
    assert "seed 003" in kept and "seed=0" not in kept and "seed=1" not in kept


def test_every_cited_key_is_in_the_bibliography():
    """Check that each {cite} key used on a page is defined in book/references.bib."""
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    defined = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    used = set()
    for path in sorted((ROOT / "book").rglob("*.md")):
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            used |= {k.strip() for k in keys.split(",")}
    assert used, "no page cites anything"
    assert used <= defined, f"cited but not in references.bib: {sorted(used - defined)}"


def test_toc_lists_chapters_then_exercises_then_appendices():
    """Check the order of the parts and that every exercise notebook that exists is listed."""
    captions = [part["caption"] for part in TOC["parts"]]
    assert captions == ["Chapters", "Exercises", "Appendices"], captions
    listed = {entry["file"] for entry in TOC["parts"][1]["chapters"]}
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
