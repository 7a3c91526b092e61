"""The student's and the instructor's paths through JupyterLab 4, in headless Chromium (issue 14).

A course directory with exercise 3 released (nbgrader, this course's config) is served by a
JupyterLab started here on 127.0.0.1 from the course's environment, with a token, and stopped at
the end. The student opens the release and runs it all (Run All reaches the summary at the
end), then opens a notebook whose forget_gate concatenates [x_t, h_prev], runs it
all, reads the message, and clicks Validate. The instructor grades it in the sandbox, opens the
feedback page (offline, from the file) and the formgrader. In each place the mistake is read in
the first screenful, without horizontal scrolling, and no grader frame shows. Screenshots go to
_build/screenshots/student_path/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
from test_messages import (  # noqa: E402
    ASSIGNMENT,
    NOTEBOOK,
    XH,
    _nbgrader,
    no_grader_frames,
    wrong_submission,
)

BIN = Path(sys.executable).parent
SHOTS = ROOT / "_build" / "screenshots" / "student_path"
TOKEN = "lstm-course-test"
VIEW = {"width": 1280, "height": 900}
MISTAKE = "[x_t, h_prev] instead of [h_prev, x_t]"
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"  # the notebook's kernel is idle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("lab_course")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    proc = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    released = course / "exercises" / ASSIGNMENT / NOTEBOOK
    wrong_submission(released, course / "mine" / NOTEBOOK)  # the student's copy, answered
    wrong_submission(released, course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return course


@pytest.fixture(scope="module")
def lab(course):
    """JupyterLab on 127.0.0.1, rooted at the course directory, stopped after the tests."""
    port = _free_port()
    home = course / ".home"
    # Every cell rendered (JupyterLab 4 renders only the cells on screen by default), no news.
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}'
    )
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}'
    )
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
    log = (course / "lab.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={course}", f"--IdentityProvider.token={TOKEN}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}", "--ServerApp.open_browser=False", "--allow-root"],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("JupyterLab exited:\n" + (course / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start:\n" + (course / "lab.log").read_text()[-3000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _open_notebook(browser, url: str, path: str):
    page = browser.new_page(viewport=VIEW)
    page.goto(f"{url}/lab/tree/{path}?token={TOKEN}&reset")
    _wait_ready(page)
    return page


def _wait_ready(page) -> None:
    """Until the notebook's cells are shown and its kernel is idle."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


_SUMMARY_SHOWN = """() => { const cells = document.querySelectorAll('.jp-Notebook .jp-CodeCell');
                             const last = cells[cells.length - 1];
                             return last && /visible test|No test has run/.test(last.innerText); }"""


def _restart(page) -> None:
    """Kernel → Restart Kernel…, accepted; returns once the new kernel is idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _menu(page, "Kernel", "Restart Kernel…")
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    try:  # the indicator leaves "idle" while the kernel restarts (a quick restart may hide it)
        page.wait_for_selector(IDLE, state="detached", timeout=5_000)
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(IDLE, timeout=60_000)


def _run_all(page) -> None:
    """Run → Run All Cells on the kernel the page just started; returns once the summary (the
    last cell) has printed.

    The exercises tell students to use Kernel → Restart Kernel and Run All Cells…; a notebook
    just opened has a fresh kernel, so the test runs it all without the restart. In full CI runs
    (never alone) the first Run All often runs nothing: once a restarted kernel stayed
    "Starting", once the kernel was idle and every cell still unrun (both screenshots kept). So
    a stalled run is kept as a screenshot and tried again, after a kernel restart, then once
    more after reloading the page (a new connection to the kernel).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2, 3):
        try:
            if attempt == 2:
                _restart(page)
            elif attempt == 3:
                page.reload()
                _wait_ready(page)
            _menu(page, "Run", "Run All Cells")
            page.wait_for_function(_SUMMARY_SHOWN, timeout=90_000 if attempt == 1 else 150_000)
            return
        except PlaywrightTimeout:
            if attempt == 3:
                raise
            page.screenshot(path=str(SHOTS / f"run_all_stalled_{attempt}.png"))


def _in_first_screenful(locator, text: str) -> dict:
    """Where ``text`` sits inside ``locator``'s box, and whether the box scrolls sideways."""
    return locator.evaluate(
        """(el, text) => {
             const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
             let node, top = null;
             while ((node = walker.nextNode())) {
               const i = node.textContent.indexOf(text);
               if (i >= 0) { const r = document.createRange(); r.setStart(node, i);
                             r.setEnd(node, i + text.length);
                             top = r.getBoundingClientRect().top - el.getBoundingClientRect().top
                                   + el.scrollTop; break; }
             }
             const wide = [el, ...el.querySelectorAll('pre')].some(
                 e => e.scrollWidth > e.clientWidth + 1);
             return {top, height: el.clientHeight, sideways: wide};
           }""",
        text,
    )


def test_run_all_on_the_blank_release_reaches_the_summary(browser, lab):
    page = _open_notebook(browser, lab, f"exercises/{ASSIGNMENT}/{NOTEBOOK}")
    try:
        _run_all(page)
        last = page.locator(".jp-Notebook .jp-CodeCell").last
        text = last.inner_text()
        assert "0 of 3 visible tests pass" in text and "✗ forget_gate" in text, text
        page.screenshot(path=str(SHOTS / "1_blank_release_run_all.png"))
        first_error = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).first
        first_error.scroll_into_view_if_needed()  # JupyterLab renders only what is on screen
        page.wait_for_timeout(500)
        no_grader_frames(first_error.inner_text())
        assert "is not written yet" in first_error.inner_text()
    finally:
        page.close()


def test_the_notebook_shows_the_mistake_first_and_validate_finds_it(browser, lab):
    page = _open_notebook(browser, lab, f"mine/{NOTEBOOK}")
    try:
        _run_all(page)
        output = page.locator(".jp-OutputArea-output", has_text="✗ failed: forget_gate gives")
        output.scroll_into_view_if_needed()
        text = output.inner_text()
        assert "✓ passed" in page.locator(".jp-Notebook").inner_text()
        no_grader_frames(text)
        where = _in_first_screenful(output, MISTAKE)
        assert where["top"] is not None and where["top"] < 200, where
        assert not where["sideways"], "the error output scrolls sideways"
        page.screenshot(path=str(SHOTS / "2_wrong_answer_message.png"))

        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).first.click()
        dialog = page.locator(".jp-Dialog-content")
        dialog.wait_for(timeout=180_000)
        page.wait_for_function(
            "() => /VALIDATION FAILED|failed|Success/i.test("
            "document.querySelector('.jp-Dialog-content').innerText)",
            timeout=180_000,
        )
        body = page.locator(".jp-Dialog-body")
        page.screenshot(path=str(SHOTS / "3_validate_dialog.png"))
        dialog_text = body.inner_text()
        assert XH in dialog_text
        no_grader_frames(dialog_text)
        where = _in_first_screenful(body, MISTAKE)
        assert not where["sideways"], "the Validate dialog scrolls sideways"
        assert where["top"] < where["height"], f"the mistake is below the first screenful: {where}"
    finally:
        page.close()


def test_the_instructor_grades_and_reads_feedback_and_the_formgrader(browser, lab, course):
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(course)}
    grade = subprocess.run(
        [sys.executable, "-m", "lstm_course.autograde", "--course-dir", str(course)],
        cwd=course, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert grade.returncode == 0, grade.stdout + grade.stderr
    proc = _nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = course / "feedback" / "ada" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")

    page = browser.new_page(viewport=VIEW)
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0",
                               timeout=60_000)  # fmt: skip
        assert not [u for u in requests if not u.startswith("file://")], requests
        toc = page.locator("#toc").inner_text()
        assert "Test cell" not in toc and "✗" in toc and "forget_gate_example" in toc
        error = page.locator(".output_error", has_text=MISTAKE).first
        error.scroll_into_view_if_needed()
        where = _in_first_screenful(error, MISTAKE)
        assert where["top"] is not None and where["top"] < 200 and not where["sideways"], where
        no_grader_frames(error.inner_text(), course)
        page.screenshot(path=str(SHOTS / "4_feedback_page.png"), full_page=False)

        page.goto(f"{lab}/formgrader?token={TOKEN}")
        page.wait_for_selector(f"td:has-text('{ASSIGNMENT}')", timeout=60_000)
        assert page.locator("#warning-exchange").count() == 0
        page.screenshot(path=str(SHOTS / "5_formgrader_assignments.png"))
        # a student the grader created without a class list is named by their id (was None, None)
        page.goto(f"{lab}/formgrader/manage_students?token={TOKEN}")
        page.wait_for_selector("td.name a", timeout=60_000)
        names = page.locator("td.name").all_inner_texts()
        assert names == ["ada,"], names
        refused = page.evaluate(
            """async (url) => {
                 const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
                 const r = await fetch(url, {method: 'POST', headers: {'X-XSRFToken': xsrf}});
                 return await r.json(); }""",
            f"{lab}/formgrader/api/submission/{ASSIGNMENT}/ada/autograde",
        )
        assert refused["success"] is False and "make autograde" in refused["error"], refused
        page.goto(f"{lab}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK[:-6]}?token={TOKEN}")
        page.locator("a", has_text=re.compile("Submission #|ada|None")).first.click()
        page.wait_for_selector(".output_error", timeout=60_000)
        error = page.locator(".output_error", has_text=MISTAKE).first
        error.scroll_into_view_if_needed()
        text = error.inner_text()
        no_grader_frames(text, course)
        where = _in_first_screenful(error, MISTAKE)
        assert where["top"] < 200 and not where["sideways"], where
        page.screenshot(path=str(SHOTS / "6_formgrader_submission.png"))
    finally:
        page.close()
