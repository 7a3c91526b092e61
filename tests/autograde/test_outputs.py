"""Issue 10, stored cross-site scripting: nothing a submission writes runs in the instructor's
browser. Each attack is recorded by the record stage into a real gradebook, then rendered by the
real ``nbgrader generate_feedback``; the page is parsed and must hold no script, event handler or
script URL of the attack. Pasted images (attachments) must survive, valid, so feedback works."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest
import recording_harness as rh
from nbformat.v4 import new_code_cell, new_markdown_cell

from lstm_course.autograde import sanitize

M = rh.MARK
PNG = base64.b64encode(rh.png_bytes()).decode()
NOT_PNG = base64.b64encode(b"<script>" + M.encode() + b"</script>").decode()
SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{M}()"><script>{M}()</script></svg>'

# what a student cell can display (IPython.display.HTML, SVG, Javascript, Markdown, a forged PNG)
ATTACK_OUTPUTS = [
    {"output_type": "display_data", "metadata": {},
     "data": {"text/html": f"<script>{M}()</script><img src=x onerror={M}()>",
              "text/plain": "<IPython.core.display.HTML object>"}},
    {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": SVG}},
    {"output_type": "display_data", "metadata": {}, "data": {"application/javascript": f"{M}()"}},
    {"output_type": "display_data", "metadata": {},
     "data": {"text/markdown": f"[click](javascript:{M}()) <img src=x onerror={M}()>"}},
    {"output_type": "display_data", "metadata": {"image/png": {"width": f'1" onload="{M}()'}},
     "data": {"image/png": NOT_PNG}},
    {"output_type": "execute_result", "execution_count": 1, "metadata": {},
     "data": {"text/html": f"<iframe src=javascript:{M}()>", "text/plain": "3"}},
    {"output_type": "display_data", "metadata": {}, "data": {"image/png": PNG}},
    {"output_type": "stream", "name": "stdout", "text": f"<script>{M}()</script>\x1b[31mred\n"},
]  # fmt: skip
ATTACK_MARKDOWN = [
    f"<script>{M}()</script>",
    f"An answer <img src=x onerror={M}()> with HTML",
    f"[a link](javascript:{M}())",
    f"[entity link](javascript&#58;{M}())",
    f"[ref][r]\n\n[r]: javascript:{M}()",
    f'<svg><a xlink:href="javascript:{M}()"><text>x</text></a></svg>',
    f"```mermaid\n<script>{M}()</script>\n```",
    f"<details open ontoggle={M}()>x</details>",
    f"<a href='java\tscript:{M}()'>tab</a>",
]
HTML_NAME = f"<img src=x onerror={M}()>.ipynb"
HTML_GRADE_ID = f"<svg/onload={M}()>"


def _attack_notebook(course):
    nb = rh.solved(course)
    answer = next(i for i, c in enumerate(nb.cells) if c.get("id") == "sigmoid")
    nb.cells.insert(answer + 1, new_code_cell("from IPython.display import HTML  # OUT:attack"))
    for i, src in enumerate(ATTACK_MARKDOWN):
        nb.cells.insert(answer + 2 + i, new_markdown_cell(src))
    relabelled = new_code_cell("x = 1")  # its grade_id comes back in the grader's notes
    relabelled.metadata["nbgrader"] = {"grade_id": HTML_GRADE_ID, "solution": True, "grade": False}
    nb.cells.append(relabelled)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = rh.harness.make_course(tmp_path_factory.mktemp("outputs") / "course")
    nb = _attack_notebook(course)
    rh.submit(course, "mallory", nb)
    restored = rh.graded(course, nb, {"attack": ATTACK_OUTPUTS})
    note = f"the notebook was submitted as {HTML_NAME} instead of forget_gate.ipynb"
    assert any(HTML_GRADE_ID in n for n in restored.notes)
    summary = rh.record(course, "mallory", restored.notebook, notes=[note, *restored.notes])
    pasted = rh.solved(course)
    cell = new_markdown_cell("My sketch of the gate:\n\n![sketch.png](attachment:sketch.png)")
    cell["attachments"] = {"sketch.png": {"image/png": PNG}}
    pasted.cells.insert(3, cell)
    for student in ("ada", "grace"):
        rh.submit(course, student, pasted)
        rh.record(course, student, rh.graded(course, pasted).notebook)
    proc = rh.nbgrader(course, "generate_feedback", "*", "--force")
    return course, summary, proc


def test_feedback_is_generated_for_everyone(course):
    course, _, proc = course
    assert proc.returncode == 0, proc.stderr[-3000:]
    for student in ("mallory", "ada", "grace"):
        assert rh.feedback_html(course, student)


def test_no_attack_runs_in_the_feedback_page(course):
    course, _, _ = course
    page = rh.ActiveContent(rh.feedback_html(course, "mallory"))
    assert not [s for s in page.scripts if M in s], "a script of the attack is in the page"
    assert not [h for h in page.handlers if M in h], page.handlers
    assert not page.urls, page.urls
    # the page's own scripts (MathJax) and tags (meta) are those of an honest student's page
    honest = rh.ActiveContent(rh.feedback_html(course, "ada"))
    assert page.scripts == honest.scripts
    assert page.embeds == honest.embeds


def test_the_attacks_show_as_text(course):
    course, _, _ = course
    html = rh.feedback_html(course, "mallory")
    assert f"&lt;script&gt;{M}()&lt;/script&gt;" in html  # the stdout line, escaped
    assert "&lt;img src=x onerror=" in html  # the file name in the grader's note, escaped
    assert "&lt;svg/onload=" in html  # the student's grade_id in the grader's note, escaped


def test_no_attack_runs_in_the_formgrader(course):
    """The formgrader's page of the same submission, built as its handler builds it."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    course, _, _ = course
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    extra = Config()
    extra.HTMLExporter.template_name = "formgrade"
    extra.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    config.merge(extra)
    path = course / "autograded" / "mallory" / rh.ASSIGNMENT / f"{rh.NOTEBOOK}.ipynb"
    resources = {"assignment_id": rh.ASSIGNMENT, "notebook_id": rh.NOTEBOOK, "submission_id": "1",
                 "index": 0, "total": 1, "base_url": "", "student": "mallory", "last_name": "",
                 "first_name": "", "notebook_path": str(path)}  # fmt: skip
    html, _ = HTMLExporter(config=config).from_filename(str(path), resources=resources)
    page = rh.ActiveContent(html)
    assert "formgrade" in html or page.scripts  # the formgrader's own page
    assert not [s for s in page.scripts if M in s]
    assert not [h for h in page.handlers if M in h], page.handlers
    assert not page.urls, page.urls


def test_only_text_and_real_images_are_kept_in_autograded(course):
    course, summary, _ = course
    path = course / "autograded" / "mallory" / rh.ASSIGNMENT / f"{rh.NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text())
    kinds = set()
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            kinds |= set(out.get("data", {}))
            assert not out.get("metadata"), out
            for mime in ("image/png", "image/jpeg"):
                if mime in out.get("data", {}):
                    assert base64.b64decode(out["data"][mime]).startswith(
                        sanitize.IMAGE_MAGIC[mime]
                    )
    assert kinds == {"text/plain", "image/png"}
    pngs = [
        o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert [o["data"]["image/png"] for o in pngs] == [PNG]  # the real one, not the forged one
    assert any("text/html" in n for n in summary["notes"]), summary["notes"]


def test_pasted_image_is_kept_and_shown(course):
    course, _, _ = course
    path = course / "autograded" / "ada" / rh.ASSIGNMENT / f"{rh.NOTEBOOK}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    (cell,) = [c for c in nb.cells if "attachment:sketch.png" in c.source]
    assert cell.attachments == {"sketch.png": {"image/png": PNG}}
    assert f"data:image/png;base64,{PNG}" in rh.feedback_html(course, "ada")


def test_feedback_and_formgrader_sanitize_html_on():
    """Config alone, without the grader's cleaning: nbconvert's HTMLExporter as nbgrader's
    feedback and formgrader build it from the course's nbgrader_config.py."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(rh.harness.ROOT)).load_config()
    assert HTMLExporter(config=config).sanitize_html is True
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("display_data", data={"text/html": f"<script>{M}()</script>"})
    nb.cells.append(new_code_cell("x", outputs=[out]))
    html, _ = HTMLExporter(config=config).from_notebook_node(nb)
    assert not [s for s in rh.ActiveContent(html).scripts if M in s]


@pytest.mark.parametrize("source", ATTACK_MARKDOWN)
def test_markdown_attacks_render_harmless(source):
    cleaned, problem = sanitize.clean_markdown(source)
    assert problem is not None
    page = rh.ActiveContent(sanitize.render_markdown(cleaned))
    assert not page.scripts and not page.handlers and not page.urls and not page.embeds


def test_honest_markdown_of_the_course_is_kept_as_it_is():
    """No false alarm: every markdown cell of every released notebook renders as written."""
    seen = 0
    for path in sorted((rh.harness.ROOT / "exercises").glob("*/*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type == "markdown":
                seen += 1
                assert sanitize.clean_markdown(cell.source) == (cell.source, None), path
    assert seen > 40


@pytest.mark.parametrize(
    "attachment",
    [
        {"image/svg+xml": base64.b64encode(SVG.encode()).decode()},
        {"text/html": base64.b64encode(b"<script>x</script>").decode()},
        {"image/png": NOT_PNG},
        {"image/png": "not base64 !"},
        {"image/png": PNG, "text/html": "PHNjcmlwdD4="},
        "a string",
    ],
)
def test_invalid_attachments_are_dropped_with_a_note(attachment):
    kept, notes = sanitize.clean_attachments({"a.png": attachment, "b.png": {"image/png": PNG}})
    assert kept == {"b.png": {"image/png": PNG}}
    assert len(notes) == 1 and "'a.png'" in notes[0]


@pytest.mark.parametrize(
    "text", [*ATTACK_MARKDOWN, HTML_NAME, HTML_GRADE_ID, "a\n<script>x</script>"]
)
def test_markdown_text_shows_any_string_inertly(text):
    """A grader's note quoting a file name, a grade_id or an error message renders harmless."""
    shown = sanitize.markdown_text(text)
    assert sanitize.markdown_problem(shown) is None
    page = rh.ActiveContent(sanitize.render_markdown(shown))
    assert not page.scripts and not page.handlers and not page.urls and not page.embeds
