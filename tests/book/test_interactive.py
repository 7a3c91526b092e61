"""The self-checks and the interactive figures, in headless Chromium, and what they rest on.

In the browser (the site built and served by conftest's fixtures): every chapter page has
self-checks that render; answering a quiz wrong and right shows the matching feedback; moving
each figure's slider changes the figure; and no page asks for anything outside 127.0.0.1 or logs
a console error. Without the browser: every numeric answer equals an independent computation,
every choice explains itself, the Colab install cell and the Binder description install what
the chapters import. Screenshots go to _build/screenshots/interactive-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
QUIZZES = ROOT / "lstm_course" / "quizzes"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.md"))

slow = [pytest.mark.slow, pytest.mark.timeout(900)]

# (page, figure id, slider position to move to as a fraction of the rail)
FIGURES = [
    ("book/01_rnn_vs_lstm", "fig-gradient-through-time", 0.45),
    ("book/02_lstm_cell", "fig-hand-set-cell", 0.1),
    ("book/03_forget_gate", "fig-forget-half-life", 0.95),
]


def _open(browser, url: str):
    """Open url; return the page, its console errors and every URL it requested."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, errors, requests


def _outside(requests: list[str]) -> list[str]:
    """The requests that would leave the machine (data: and blob: URLs never do)."""
    return [
        u for u in requests if urlsplit(u).scheme not in ("data", "blob")
        and urlsplit(u).hostname != "127.0.0.1"
    ]  # fmt: skip


# ----------------------------------------------------------------------------------------------
# In the browser


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_chapter_has_working_self_checks(browser, site_url, chapter):
    """Check that the chapter page shows 2 to 4 quiz questions that rendered, and a question to
    answer before reading on with its answer in a dropdown, with no console error and no request
    outside 127.0.0.1."""
    page, errors, requests = _open(browser, f"{site_url}/book/{chapter}.html")
    try:
        quiz = page.locator(".lstm-selfcheck")
        assert quiz.count() >= 1, f"{chapter}: no self-check (.lstm-selfcheck) on the page"
        questions = page.locator(".lstm-selfcheck .Quiz")
        questions.first.wait_for(timeout=15_000)
        assert 2 <= questions.count() <= 4, f"{chapter}: {questions.count()} quiz questions"
        # a question to answer before reading on ("Before you read on", "Question before reading
        # on", "Check your understanding"), whatever its title
        assert page.locator(".admonition.hint").count() >= 1, f"{chapter}: no question to predict"
        assert page.locator("details.dropdown, .dropdown").count() >= 1, f"{chapter}: no dropdown"
        page.wait_for_timeout(700)  # jupyterquiz typesets its questions 0.5 s after drawing
        assert errors == [], f"{chapter}: console errors {errors}"
        assert _outside(requests) == [], f"{chapter}: requests off the machine {_outside(requests)}"
    finally:
        page.close()


def _question(page, text: str):
    return page.locator(".lstm-selfcheck .Quiz", has_text=text)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quiz_answers_get_feedback(browser, site_url):
    """Check, on the forget-gate chapter, that a wrong numeric answer and a wrong choice get the
    feedback that explains the mistake, and right ones get 'Right' or 'Yes'."""
    page, errors, requests = _open(browser, f"{site_url}/book/03_forget_gate.html")
    try:
        numeric = _question(page, "stays at")
        numeric.scroll_into_view_if_needed()
        box = numeric.locator("input.Input-text")
        feedback = numeric.locator(".Feedback")
        box.click()
        box.type("0.9")
        box.press("Enter")
        assert "incorrect" in feedback.get_attribute("class")
        assert "after one step" in feedback.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".lstm-selfcheck").first.screenshot(
            path=str(SCREENSHOTS / "interactive-quiz-wrong.png")
        )
        box.click()  # focusing the box clears it
        box.type("0.349")
        box.press("Enter")
        assert "correct" in feedback.get_attribute("class").split()
        assert feedback.inner_text().startswith("Right")

        choice = _question(page, "An entry of")
        fb = choice.locator(".Feedback")
        choice.locator(".MCButton", has_text="almost entirely kept").click()
        assert "incorrect" in fb.get_attribute("class")
        assert "backwards" in fb.inner_text()
        choice.locator(".MCButton", has_text="almost erased").click()
        assert "correct" in fb.get_attribute("class").split()
        page.locator(".lstm-selfcheck").first.screenshot(
            path=str(SCREENSHOTS / "interactive-quiz.png")
        )
        assert errors == [], f"console errors {errors}"
        assert _outside(requests) == [], f"requests off the machine {_outside(requests)}"
    finally:
        page.close()


_FIGURE_STATE = """id => {
  const gd = document.getElementById(id);
  return {title: gd.layout.title.text, ys: gd.data.map(t => Array.from(t.y || []).slice(0, 60)),
          svgTitle: gd.querySelector('.gtitle') ? gd.querySelector('.gtitle').textContent : ''};
}"""


@pytest.mark.parametrize(("doc", "fig_id", "to"), FIGURES)
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_slider_changes_the_figure(browser, site_url, doc, fig_id, to):
    """Check that moving the figure's slider (a mouse click on its rail) changes its title and
    the data of a trace, with plotly.js served by the site: no console error, no request outside
    127.0.0.1, none to a CDN."""
    page, errors, requests = _open(browser, f"{site_url}/{doc}.html")
    try:
        figure = page.locator(f"#{fig_id}")
        figure.scroll_into_view_if_needed()
        page.wait_for_function("() => window.Plotly !== undefined")
        figure.locator(".slider-rail-rect").wait_for(timeout=15_000)
        before = page.evaluate(_FIGURE_STATE, fig_id)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        figure.screenshot(path=str(SCREENSHOTS / f"interactive-{fig_id}-before.png"))

        rail = figure.locator(".slider-rail-rect").bounding_box()
        page.mouse.click(rail["x"] + to * rail["width"], rail["y"] + rail["height"] / 2)
        page.wait_for_function(f"() => document.getElementById({fig_id!r}).layout.title.text "
                               f"!== {json.dumps(before['title'])}", timeout=10_000)  # fmt: skip
        after = page.evaluate(_FIGURE_STATE, fig_id)
        figure.screenshot(path=str(SCREENSHOTS / f"interactive-{fig_id}-after.png"))

        assert after["title"] != before["title"]
        drawn = after["title"].replace("<br>", "")  # each line is a <tspan>
        assert after["svgTitle"] == drawn, "the drawn title is not the new title"
        assert after["ys"] != before["ys"], f"{fig_id}: no trace changed: {after['title']}"
        local = [u for u in requests if urlsplit(u).path.endswith("/_static/plotly.min.js")]
        assert local, f"{doc}: plotly.js was not loaded from the site's _static"
        assert errors == [], f"{doc}: console errors {errors}"
        assert _outside(requests) == [], f"{doc}: requests off the machine {_outside(requests)}"
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_plotly_is_served_locally_and_only_where_needed(built_site):
    """Check that pages with a figure load _static/plotly.min.js from the site (no CDN, no
    require.js) and that pages without one do not load it."""
    assert (built_site / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    with_figures = {doc for doc, _, _ in FIGURES}
    for chapter in CHAPTERS:
        html = (built_site / "book" / f"{chapter}.html").read_text(encoding="utf-8")
        loads = 'src="../_static/plotly.min.js' in html
        assert loads == (f"book/{chapter}" in with_figures), f"{chapter}: plotly.js loaded={loads}"
        for cdn in ("plot.ly", "require.js", "requirejs"):
            assert cdn not in html, f"{chapter}: the page names {cdn}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_downloaded_notebook_installs_the_course_on_colab(built_site):
    """Check that each chapter's downloadable .ipynb starts with a cell that installs the course
    from the repository set in _config.yml, only on Colab."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url, branch = config["repository"]["url"], config["repository"]["branch"]
    for chapter in CHAPTERS:
        notebook = json.loads((built_site / "_sources" / "book" / f"{chapter}.ipynb").read_text())
        first = "".join(notebook["cells"][0]["source"])
        assert f"git+{url}@{branch}" in first, f"{chapter}: first cell {first!r}"
        assert 'if "google.colab" in sys.modules:' in first
        assert sum("git+" in "".join(c["source"]) for c in notebook["cells"]) == 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_students_page_says_how_to_run_it_yourself(built_site):
    """Check that the students' page shows the clone command with the repository set in
    _config.yml, the two commands, Jupyter Lab, and the Binder, JupyterHub and Colab routes."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url, branch = config["repository"]["url"], config["repository"]["branch"]
    html = (built_site / "book" / "appendix" / "students.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert f"git clone --branch {branch} {url} lstm-course" in text
    for words in ("make book", "make test", ".venv/bin/jupyter lab", "Binder", "JupyterHub"):
        assert words in text, f"the students' page does not say {words!r}"
    assert f"installs the course from {url}" in " ".join(text.split())
    assert "{{" not in text, "a substitution was left unreplaced"


# ----------------------------------------------------------------------------------------------
# Without the browser: the questions and the launch environments


def _numeric_references() -> dict[str, float]:
    """Each numeric question's answer, computed independently of the question file."""
    import torch

    from lstm_ref.np_ref import cell_update, hidden_state
    from lstm_ref.params import init_params

    def count(cell, D, H):
        return sum(w.size for w in init_params(cell, D, H).values())

    g = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    g.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    torch.nn.utils.clip_grad_norm_([g], max_norm=1.0)
    bidirectional = torch.nn.LSTM(10, 32, bidirectional=True)

    return {
        "rnn-factor-20": 0.8**20,
        "lstm-params-10-3": count("lstm", 3, 10),
        "keep-0.9-10": 0.9**10,
        "half-life-0.99": np.log(2) / -np.log(0.99),
        "cell-update": cell_update(*(np.array([[v]]) for v in (0.5, 2.0, 0.8, -0.5))).item(),
        "hidden-0.5-3": hidden_state(np.array([[0.5]]), np.array([[3.0]])).item(),
        "carousel-0.5-10": 0.5**10,
        "torch-lstm-params": sum(p.numel() for p in torch.nn.LSTM(3, 5).parameters()),
        "peephole-params": count("peephole", 3, 4),
        "clip-norm": g.grad[0].item(),
        "uniform-bits": np.log2(62),
        "bits-halve": 2.0**3 / 2.0**2,
        "bidir-outputs": bidirectional(torch.zeros(4, 1, 10))[0].shape[-1],
    }


def _questions():
    for path in sorted(QUIZZES.glob("*.json")):
        for name, questions in json.loads(path.read_text(encoding="utf-8")).items():
            for question in questions:
                yield f"{path.stem}/{name}", question


def _rounded(value: float, precision) -> float:
    return float(f"{value:.{precision}g}") if precision else value


def _same(answer: float, ref: float, precision) -> bool:
    """Equal as jupyterquiz compares them: to `precision` significant figures when the question
    sets one; otherwise to 1e-6 (torch's clip_grad_norm_ divides by the norm plus 1e-6)."""
    if precision:
        return _rounded(answer, precision) == _rounded(ref, precision)
    return bool(np.isclose(answer, ref, rtol=1e-6, atol=0))


def test_numeric_answers_match_an_independent_computation():
    """Check that every numeric question's accepted answers contain the value computed from
    lstm_ref, PyTorch or a closed form, and that no answer marked wrong equals it."""
    refs = _numeric_references()
    seen = set()
    for where, q in _questions():
        if q["type"] != "numeric":
            continue
        assert q.get("id") in refs, f"{where}: numeric question without a reference: {q}"
        seen.add(q["id"])
        ref, precision = refs[q["id"]], q.get("precision")
        shown = _rounded(ref, precision)
        right = [a for a in q["answers"] if a.get("correct")]
        assert right, f"{where} {q['id']}: no correct answer"
        for a in q["answers"]:
            if "value" in a:
                equal = _same(a["value"], ref, precision)
                assert equal == a["correct"], f"{where} {q['id']}: {a['value']} vs {ref}"
            elif "range" in a:
                low, high = a["range"]
                assert a["correct"] == (low <= shown < high), f"{where} {q['id']}: {a} vs {ref}"
        assert q["answers"][-1]["type"] == "default", f"{where} {q['id']}: no default feedback"
    assert seen == set(refs), f"references without a question: {set(refs) - seen}"


def test_every_choice_has_one_right_answer_and_explains_itself():
    """Check that each multiple-choice question has exactly one right answer and feedback on
    every answer, and each chapter 2 to 4 questions."""
    per_chapter: dict[str, int] = {}
    for where, q in _questions():
        per_chapter[where.split("/")[0]] = per_chapter.get(where.split("/")[0], 0) + 1
        if q["type"] != "multiple_choice":
            continue
        assert sum(a["correct"] for a in q["answers"]) == 1, f"{where}: {q['question']}"
        assert all(a.get("feedback") for a in q["answers"]), f"{where}: {q['question']}"
    assert all(2 <= n <= 4 for n in per_chapter.values()), per_chapter


def test_every_chapter_shows_its_own_quiz():
    """Check that each chapter calls quiz() on its own question file, in a cell whose code is
    hidden, and that the set it names exists."""
    for chapter in CHAPTERS:
        text = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
        calls = re.findall(
            r":tags: \[remove-input\]\n(?:(?!```).*\n)*?quiz\(\"([^\"]+)\", \"([^\"]+)\"\)", text
        )
        assert calls, f"{chapter}: no hidden quiz cell"
        for file, name in calls:
            assert file == chapter, f"{chapter} shows the quiz of {file}"
            sets = json.loads((QUIZZES / f"{file}.json").read_text(encoding="utf-8"))
            assert name in sets, f"{chapter}: no set {name!r} in {file}.json"


def test_binder_installs_the_pinned_requirements_and_the_course():
    """Check that binder/ asks for the README's Python, installs torch at requirements.txt's pin
    (CPU build), every other pin, and the course with its [course] extra; and that the extra
    names the packages the self-checks and figures import, which requirements.txt pins."""
    post = (ROOT / "binder" / "postBuild").read_text()
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert "grep -E '^torch==' requirements.txt" in post
    assert "download.pytorch.org/whl/cpu" in post
    assert "pip install --no-cache-dir -r requirements.txt" in post
    assert 'pip install --no-cache-dir --no-build-isolation -e ".[course]"' in post
    pyproject = (ROOT / "pyproject.toml").read_text()
    course = re.search(r"^course = \[(.*)\]$", pyproject, re.M).group(1)
    pins = (ROOT / "requirements.txt").read_text().lower()
    for package in ("plotly", "jupyterquiz", "jupytext"):
        assert re.search(rf"^{package}==", pins, re.M), f"{package} is not pinned"
    for package in ("plotly", "jupyterquiz"):
        assert f'"{package}"' in course, f"the [course] extra lacks {package}"


def _steps(fig):
    return fig.layout.sliders[0].steps


def test_half_life_figure_is_the_closed_form():
    """Check that every slider step of the half-life figure shows f^k and marks k = ln 2 / -ln f."""
    from lstm_course.interactive import forget_half_life_figure

    fig = forget_half_life_figure(gates=(0.5, 0.9, 0.99), k_max=100, active=1)
    for step, f in zip(_steps(fig), (0.5, 0.9, 0.99), strict=True):
        data = step.args[0]
        k = np.asarray(data["x"][0])
        np.testing.assert_allclose(data["y"][0], f**k, rtol=1e-12)
        np.testing.assert_allclose(data["x"][1], [np.log(0.5) / np.log(f)] * 2, rtol=1e-12)
        assert f"after 10 steps {f**10:.3f} of the memory is left" in step.args[1]["title.text"]


def test_hand_set_cell_figure_is_lstm_forward():
    """Check that each frame of the hand-set cell's figure is lstm_ref.np_ref.lstm_forward run with
    that forget bias (its last C_t and h-consistent gates), with f_t = σ(b_f) where the flag is off."""
    from lstm_course.interactive import hand_set_cell_figure
    from lstm_ref.np_ref import lstm_forward, sigmoid

    rng = np.random.default_rng(3)
    params = {
        "W_f": np.array([[0.0, 0.0, -10.0]]), "b_f": np.array([5.0]),
        "W_i": np.array([[0.0, 0.0, 10.0]]), "b_i": np.array([-5.0]),
        "W_c": np.array([[0.0, 1.0, 0.0]]), "b_c": np.array([0.0]),
        "W_o": np.array([[0.0, 0.0, 0.0]]), "b_o": np.array([5.0]),
    }  # fmt: skip
    flag = np.zeros(12)
    flag[[2, 7]] = 1.0
    x = np.stack([rng.uniform(-1, 1, 12), flag], axis=-1)[None]  # (N, T, D) = (1, 12, 2)
    fig = hand_set_cell_figure(params, x, [1, 5], active=1, store_at=2, read_at=6)
    for step, b_f in zip(_steps(fig), (1, 5), strict=True):
        f_trace, _, c_trace = (np.asarray(y) for y in step.args[0]["y"][:3])
        _, (_, c_T), _ = lstm_forward(x, dict(params, b_f=np.array([float(b_f)])))
        np.testing.assert_allclose(c_trace[-1], c_T[0, 0], rtol=1e-12)
        np.testing.assert_allclose(f_trace[flag == 0], sigmoid(np.array(b_f)), rtol=1e-12)
        assert f"is {c_trace[6]:+.3f} at t = 6" in step.args[1]["title.text"]


def test_gradient_figure_matches_torch_autograd():
    """Check the figure's state-gradient norms (lstm_ref's backward steps) against PyTorch's
    autograd through nn.LSTM loaded with the same weights, for the LSTM and the RNN."""
    import torch

    from lstm_course.interactive import state_gradient_norms
    from lstm_ref.params import init_params, load_params

    N, T, D, H = 3, 9, 2, 4
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D))
    u = rng.standard_normal(H)
    for cell, module in (("lstm", torch.nn.LSTM), ("rnn", torch.nn.RNN)):
        params = init_params(cell, D, H, seed=1)
        if cell == "lstm":
            params["b_f"] = np.full(H, 2.0)
        ours = state_gradient_norms(cell, params, x, u)
        model = module(D, H, batch_first=True).double()
        load_params(model, params)
        xt = torch.tensor(x)
        h = torch.zeros(1, N, H, dtype=torch.float64)
        c = torch.zeros_like(h)
        states = []
        for t in range(T):
            if cell == "lstm":
                _, (h, c) = model(xt[:, t : t + 1], (h, c))
                c.retain_grad()
            else:
                _, h = model(xt[:, t : t + 1], h)
            h.retain_grad()
            states.append((h, c))
        (h @ torch.tensor(u)).sum().backward()
        theirs = []
        for h_t, c_t in states:
            g = h_t.grad.pow(2).sum(-1)
            if cell == "lstm" and c_t.grad is not None:
                g = g + c_t.grad.pow(2).sum(-1)
            theirs.append(g.sqrt().mean().item())
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, err_msg=f"{cell}: ours vs autograd")
