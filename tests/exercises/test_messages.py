"""What a student reads when a test fails, wherever it is read (issue 14).

A wrong ``[x_t, h_prev]`` answer to exercise 2 goes through the places a message is read: the
notebook (a real kernel, the setup cell's handler), ``nbgrader validate`` and ``make check``,
the feedback page, and the formgrader's API. In each: the test's name and the likely mistake
come first, no line is cut or wider than the page, and no grader frame or grading-machine path
shows. The formatting itself (lstm_course.display) is checked on errors raised for the purpose.
"""

from __future__ import annotations

import json
import linecache
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from lstm_course import display
from lstm_course.grading import compare, gate_mistakes, random_arrays, run

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ASSIGNMENT, NOTEBOOK = "ex03_forget_gate", "forget_gate.ipynb"
XH = "Likely mistake: [x_t, h_prev] instead of [h_prev, x_t]"
EDITED = sorted(p.name for p in (ROOT / "solutions").glob("ex[0-9][0-9]_*"))
GRADER_TRACES = ("Traceback", 'File "', "site-packages", "lstm_course/grading", "checks.py")


def no_grader_frames(text: str, root: Path | None = None) -> None:
    for trace in GRADER_TRACES + ((str(root),) if root else ()):
        assert trace not in text, f"{trace!r} in what the student reads:\n{text}"


# ---------------------------------------------------------------------------------------------
# The formatting, on errors raised here.


def _cell(source: str, name: str = "<cell 7>"):
    """Compile ``source`` as a notebook cell would be (its lines in linecache)."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict = {"np": np}
    exec(compile(source, name, "exec"), namespace)  # noqa: S102
    return namespace


def _label(filename: str) -> str | None:
    return "In[7]" if filename.startswith("<cell") else None


def _raised(fn) -> BaseException:
    try:
        fn()
    except BaseException as error:  # noqa: BLE001
        return error
    raise AssertionError("expected an error")


WRONG = """
def forget_gate(h_prev, x_t, W_f, b_f):
    z = np.concatenate([x_t, h_prev], axis=1)
    return 1 / (1 + np.exp(-(z @ W_f.T + b_f)))
"""


def test_a_failing_test_shows_its_name_and_the_mistake_first_and_no_grader_frame():
    wrong = _cell(WRONG)["forget_gate"]
    h_prev, x_t, W_f, b_f = random_arrays(5, (2, 5), (2, 4), (5, 9), (5,))
    error = _raised(
        lambda: compare(
            "f_t",
            run(wrong, h_prev, x_t, W_f, b_f),
            1 / (1 + np.exp(-(np.concatenate([h_prev, x_t], 1) @ W_f.T + b_f))),
            letters="(N, H)",
            mistakes=gate_mistakes(h_prev, x_t, W_f, b_f),
        )
    )
    lines = display.failure_lines(error, _label, "forget_gate gives the reference f_t")
    text = "\n".join(lines)
    assert lines[0] == "✗ failed: forget_gate gives the reference f_t"
    assert lines[1].startswith("f_t is wrong: the largest error is")
    assert any(line.startswith(XH) for line in lines[:6]), text
    assert max(map(len, lines)) <= display.WIDTH, text
    no_grader_frames(text)


def test_a_crash_in_the_students_code_shows_the_students_line_not_the_chain():
    source = WRONG.replace("z @ W_f.T", "z @ W_f")
    wrong = _cell(source)["forget_gate"]
    args = random_arrays(1, (2, 5), (2, 4), (5, 9), (5,))
    lines = display.failure_lines(_raised(lambda: run(wrong, *args)), _label, "shapes")
    text = "\n".join(lines)
    assert lines[1].startswith("forget_gate() raised ValueError: matmul"), text
    assert "Likely mistake: a transposed weight" in text
    assert "In[7], line 4, in forget_gate:" in text
    assert "return 1 / (1 + np.exp(-(z @ W_f + b_f)))" in text
    assert len(lines) < 16, text
    no_grader_frames(text)


def test_an_unwritten_function_says_so_and_a_name_not_yet_defined_says_what_to_run():
    stub = _cell('def forget(f_t, c_prev):\n    raise NotImplementedError("write the body")\n')
    text = "\n".join(display.failure_lines(_raised(lambda: stub["forget"](1, 2)), _label))
    assert "NotImplementedError: write the body" in text
    assert "forget is not written yet" in text
    error = _raised(lambda: _cell("forget_gate(1, 2, 3, 4)\n", "<cell 8>"))
    text = "\n".join(display.failure_lines(error, _label))
    assert "NameError: name 'forget_gate' is not defined" in text
    assert "Run the cells above first" in text


def test_wrapping_keeps_numbers_indices_and_slices_whole():
    text = "x " * 30 + "the largest error is 0.916066 at index (0, 2) in W_f[:, H:] and 1e-08"
    lines = display.wrap(text, 40)
    assert max(map(len, lines)) <= 40
    joined = " ".join(line.strip() for line in lines)
    for piece in ("0.916066", "(0, 2)", "W_f[:, H:]", "1e-08"):
        assert piece in joined and all(piece in line or piece not in joined for line in lines
                                       if piece.split()[0] in line), lines  # fmt: skip


def test_the_summary_groups_tests_by_the_function_they_check():
    results = {
        "sigmoid keeps the shape": ("sigmoid", True),
        "sigmoid matches the reference": ("sigmoid", None),
        "with W_f = 0 the gate is the bias alone": ("forget_gate", False),
        "forget_gate returns (N, H)": ("forget_gate", True),
    }
    lines = display.summary_lines(results)
    assert lines[0] == "✓ sigmoid: 1 of 1 visible tests pass"
    assert lines[1] == "✗ forget_gate: 1 of 2 visible tests pass"
    assert lines[2].strip() == "✗ with W_f = 0 the gate is the bias alone"
    assert lines[-1].startswith("1 visible test(s) fail")


# ---------------------------------------------------------------------------------------------
# A course directory with exercise 2 released and a wrong answer submitted.


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(course)}
    return subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def wrong_submission(released: Path, dest: Path) -> Path:
    """The released notebook with exercise 2 solved, except [x_t, h_prev] in forget_gate."""
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}  # fmt: skip
    nb = nbformat.read(released, 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            source = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", answers[grade_id])
            cell.source = source.replace("[h_prev, x_t]", "[x_t, h_prev]")
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course directory: this course's config (with the settings of issue 14 applied, as
    nbgrader_config.py does), exercise 2 released, ada's wrong answer submitted."""
    course = tmp_path_factory.mktemp("course")
    config = (ROOT / "nbgrader_config.py").read_text()
    if "nbgrader_settings" not in config:
        config += (
            "\nfrom lstm_course.nbgrader_settings import apply  # noqa: E402\n\napply(c, ROOT)\n"
        )
    (course / "nbgrader_config.py").write_text(config)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    proc = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    released = course / "exercises" / ASSIGNMENT / NOTEBOOK
    wrong_submission(released, course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK)
    return course


@pytest.mark.slow
def test_validate_names_the_test_and_prints_the_mistake_whole(course):
    submitted = course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK
    proc = _nbgrader(course, "validate", str(submitted))
    out = proc.stdout
    assert "VALIDATION FAILED" in out, out + proc.stderr
    assert XH + ": the course concatenates" in out  # the whole line, not cut at 90 characters
    assert not any(line.endswith("...") for line in out.splitlines()), out
    failed = out.split("The following cell failed:")[1].split("The error was:")[0].strip()
    assert failed.startswith('"""Check that ') and len(failed.splitlines()) == 1, failed
    error = out.split("The error was:")[1]
    # the test's name, then its message, the likely mistake within the first lines
    assert error.strip().startswith("✗ failed: ")
    assert XH in "\n".join(error.strip().splitlines()[:6])
    no_grader_frames(out, ROOT)


@pytest.mark.slow
def test_make_check_exits_non_zero_on_a_failing_test_and_zero_on_the_solution(course):
    submitted = course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK
    cmd = [sys.executable, "-m", "lstm_course.check"]
    wrong = subprocess.run([*cmd, str(submitted)], cwd=course, capture_output=True, text=True)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert XH in wrong.stdout
    right = course / "right.ipynb"
    nb = nbformat.read(submitted, 4)
    for cell in nb.cells:
        cell.source = cell.source.replace("[x_t, h_prev]", "[h_prev, x_t]")
    nbformat.write(nb, right)
    ok = subprocess.run([*cmd, str(right)], cwd=course, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Success! Your notebook passes all the tests." in ok.stdout
    none = subprocess.run([*cmd, "nothing.ipynb"], cwd=course, capture_output=True, text=True)
    assert none.returncode == 2 and "NB: expected the path of a notebook" in none.stderr
    targets = (ROOT / "Makefile").read_text()
    assert re.search(r"^check: .*\n(\t.*\n)*\t.*-m lstm_course\.check \"\$\(NB\)\"", targets, re.M)


@pytest.mark.slow
def test_a_changed_test_cell_is_still_reported_as_changed(course):
    submitted = course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(submitted, 4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == "forget_gate_example")  # fmt: skip
    test.source = test.source.replace("grading.compare(", "pass  # grading.compare(", 1)
    tampered = course / "tampered.ipynb"
    nbformat.write(nb, tampered)
    proc = _nbgrader(course, "validate", str(tampered))
    assert "THE CONTENTS OF 1 TEST CELL(S) HAVE CHANGED" in proc.stdout, proc.stdout


@pytest.fixture(scope="module")
def feedback(course) -> Path:
    """ada graded with nbgrader's own autograde (her notebook is ours: the sandbox is not what
    is tested here), then her feedback page."""
    proc = _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course / "feedback" / "ada" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")


@pytest.mark.slow
def test_feedback_lists_tests_by_name_and_serves_mathjax_itself(feedback):
    page = feedback.read_text()
    assert "cdnjs" not in page and "cdn.jsdelivr" not in page
    script = re.search(r'<script id="MathJax-script" src="([^"]+)"', page)
    assert script, "no MathJax script on the page"
    assert (feedback.parent / script.group(1)).resolve().is_file()
    assert (feedback.parent / "../mathjax/output/chtml/fonts/woff-v2").resolve().is_dir()
    toc = page.split('<div id="toc">')[1].split("</div>")[0]
    assert "Test cell" not in toc
    assert "✓" in toc and "✗" in toc
    assert "sigmoid keeps the shape of its input" in toc
    assert re.search(r"forget_gate_example</code>, score: 0\.0 / 1\.0", toc), toc


@pytest.mark.slow
def test_feedback_shows_the_mistake_without_a_grader_frame(feedback, course):
    page = feedback.read_text()
    errors = re.findall(r'<div class="output_subarea output_text output_error">\s*<pre>(.*?)</pre>',
                        page, re.S)  # fmt: skip
    assert errors, "no error output on the feedback page"
    text = re.sub(r"<[^>]+>", "", "\n".join(errors))
    assert "[x_t, h_prev] instead of [h_prev, x_t]" in text.replace("&quot;", '"')
    no_grader_frames(text, course)
    assert max(len(line) for line in text.splitlines()) <= 90


def test_feedback_rebuilds_a_plain_traceback_from_the_graders_verifier():
    from lstm_course.nbgrader_hooks import ReadableFeedback

    cell = nbformat.v4.new_code_cell('"""Check that f_t is right."""\ngrading.compare(...)')
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False}
    message = "f_t is wrong: the largest error is 0.9\n" + XH + ": the course concatenates ..."
    cell.outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue=message, traceback=[
            "Traceback (most recent call last):",
            '  File "/srv/grader/site-packages/lstm_course/grading/checks.py", line 98, in compare',
            "    raise AssertionError(...)", f"AssertionError: {message}"])]  # fmt: skip
    nb = nbformat.v4.new_notebook(cells=[cell])
    ReadableFeedback().preprocess(nb, {})
    lines = nb.cells[0].outputs[0]["traceback"]
    assert lines[0] == "✗ failed: f_t is right"
    assert lines[2].startswith(XH)
    no_grader_frames("\n".join(lines), Path("/srv/grader"))
    assert nb.cells[0].metadata["lstm_course"]["title"] == "f_t is right"
    summary = nbformat.v4.new_code_cell("from lstm_course.display import summary\n\nsummary()")
    summary.outputs = [nbformat.v4.new_output("stream", name="stdout", text="No test has run")]
    nb = nbformat.v4.new_notebook(cells=[summary])
    ReadableFeedback().preprocess(nb, {})
    assert nb.cells[0].outputs == []  # the grader's kernel runs no test: nothing to sum up


# ---------------------------------------------------------------------------------------------
# The formgrader: no unsandboxed grading, no exchange warning.


def _api(course: Path):
    import os

    from nbgrader.apps import NbGrader
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    here = os.getcwd()
    os.chdir(course)
    try:
        app = NbGrader()
        app.load_config_file()
        coursedir = CourseDirectory(config=app.config, parent=app)
        return NbGraderAPI(coursedir, Authenticator(parent=app), parent=app), here
    finally:
        os.chdir(here)


@pytest.mark.slow
def test_the_formgraders_autograde_refuses_and_points_to_make_autograde(course):
    api, _ = _api(course)
    before = sorted(p.relative_to(course) for p in course.rglob("*") if "feedback" not in p.parts)
    result = api.autograde(ASSIGNMENT, "ada")
    assert result["success"] is False
    assert "make autograde" in result["error"] and "sandbox" in result["error"]
    after = sorted(p.relative_to(course) for p in course.rglob("*") if "feedback" not in p.parts)
    assert after == before, "the refused autograde changed the course directory"
    assert not api.exchange_missing, "the formgrader would warn that the exchange is missing"


# ---------------------------------------------------------------------------------------------
# Collecting from a learning-management system: the submission time is kept.


@pytest.mark.slow
def test_zip_collect_records_the_submission_time_from_the_file_name(course):
    """The documented pattern (book/appendix/instructors.md) on Blackboard-style file names."""
    page = (ROOT / "book" / "appendix" / "instructors.md").read_text()
    found = re.findall(
        r"c\.FileNameCollectorPlugin\.named_regexp = \(.*?\n(.*?)\n\s*\)", page, re.S
    )
    patterns = [
        "".join(eval(line.strip()) for line in block.splitlines())  # noqa: S307 (our own page)
        for block in found
    ]
    timed = [p for p in patterns if "(?P<timestamp>" in p]
    assert timed, "instructors.md documents no named_regexp with a timestamp"
    regexp = timed[0]
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    name = f"{ASSIGNMENT}_grace_attempt_2026-11-20-17-45-03_{NOTEBOOK}"
    with zipfile.ZipFile(archive / "export.zip", "w") as z:
        z.write(course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK, name)
    config = course / "nbgrader_config.py"
    saved = config.read_text()
    config.write_text(saved + f"\nc.FileNameCollectorPlugin.named_regexp = {regexp!r}\n")
    try:
        proc = _nbgrader(course, "zip_collect", ASSIGNMENT, "--force")
    finally:
        config.write_text(saved)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stamp = course / "submitted" / "grace" / ASSIGNMENT / "timestamp.txt"
    assert stamp.read_text().startswith("2026-11-20 17:45:03"), proc.stderr
    assert (stamp.parent / NOTEBOOK).is_file()


# ---------------------------------------------------------------------------------------------
# The notebooks: setup, menus, commands and links.


def _site() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["html"]["baseurl"]
    assert url.startswith("https://") and url.endswith("/"), f"html.baseurl: {url!r}"
    return url


@pytest.mark.parametrize("assignment", EDITED)
def test_each_exercise_sets_up_messages_names_lab_4_menus_and_links_the_website(assignment):
    path = next((ROOT / "solutions" / assignment).glob("*.ipynb"))
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    text = lambda c: "".join(c["source"])  # noqa: E731
    intro = text(cells[0])
    setup = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "setup")
    assert "setup_notebook()" in text(setup)
    assert "Restart & Run All" not in intro and "nbgrader validate" not in intro
    assert "*Kernel → Restart Kernel and Run All Cells…*" in intro
    assert "**Validate**" in intro
    command = re.search(r"`make check\s+NB=(\S+)`", intro)
    assert command and (ROOT / command.group(1)).exists(), command
    links = re.findall(r"\]\((\S+?)\)", intro)
    assert links and all(link.startswith(_site() + "book/") for link in links), links
    for link in links:
        chapter = link.removeprefix(_site()).removesuffix(".html") + ".md"
        assert (ROOT / chapter).is_file(), chapter
    assert "summary()" in text(cells[-1])
    for cell in cells[:-1]:  # Run All goes on past a failing cell, down to the summary
        if cell["cell_type"] == "code" and cell is not setup:
            assert "raises-exception" in cell["metadata"].get("tags", []), text(cell)[:60]
