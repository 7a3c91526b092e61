"""What an exercise notebook shows: each failing test's message first, a ✓ line per passing test.

The setup cell of every exercise calls :func:`setup_notebook`. In a Jupyter kernel it installs

- an IPython exception handler (``set_custom_exc``): a failing test shows its name and the
  grading message, wrapped at :data:`WIDTH` columns, and nothing of the grader (IPython always
  prints the frame that raises, whatever ``__tracebackhide__`` says, and the grading machine's
  paths with it); an error in the student's own code shows the student's lines and the error,
  not the chained traceback through the grading helpers;
- a ``post_run_cell`` hook that prints ``✓ passed: <the test's docstring>`` under each test
  that passes, and remembers each result for :func:`summary`, the last cell of the notebook.

The same lines are what ``nbgrader validate``, the Validate button and the feedback read: they
take a test cell's error output as the kernel wrote it. Outside IPython (the grader runs the
setup cell with ``exec``) :func:`setup_notebook` does nothing; :func:`failure_lines` is the
formatting, for any caller. Standard library only: this module also runs in the student's
sandbox when a notebook is graded.
"""

from __future__ import annotations

import linecache
import re
import textwrap
import traceback
from collections.abc import Callable, Sequence

WIDTH = 79  # columns: fits the notebook, the Validate dialog, a terminal and the feedback page
PASSED = "✓ passed: "
FAILED = "✗ failed: "
HIDDEN = "Hidden tests run here"  # the comment a release leaves in a hidden test's cell
# Kept on one line: an index, a shape, a slice ("(0, 2)", "W_f[:, H:]").
_UNBREAKABLE = re.compile(r"\[[^\[\]\n]{0,16}\]|\([^()\n]{0,16}\)")
_DOCSTRING = re.compile(r'\s*(?:"""|\'\'\')\s*(.*?)\s*(?:"""|\'\'\')', re.S)
_DEF = re.compile(r"^def (\w+)\(", re.M)
# test title -> (the function it tests, passed); passed is None for a hidden test's cell
_RESULTS: dict[str, tuple[str, bool | None]] = {}
_TASK = [""]  # the function the last cell without a test defined: the tests below it check it


def test_title(source: str) -> str | None:
    """The test a cell runs, from its docstring ``\"\"\"Check that f does x.\"\"\"``: "f does x";
    None for a cell that is not a test."""
    match = _DOCSTRING.match(source or "")
    if not match or not match.group(1).startswith("Check that "):
        return None
    return match.group(1).splitlines()[0].removeprefix("Check that ").rstrip(".")


def wrap(text: str, width: int = WIDTH, indent: str = "  ") -> list[str]:
    """``text`` wrapped at ``width`` columns, line by line, never inside a word or a number;
    continued lines start with ``indent``."""
    lines = []
    for line in str(text).splitlines() or [""]:
        line = _UNBREAKABLE.sub(lambda m: m.group(0).replace(" ", "\0"), line)
        lines += textwrap.wrap(
            line, width, break_long_words=False, break_on_hyphens=False, subsequent_indent=indent
        ) or [""]
    return [line.replace("\0", " ") for line in lines]


def failure_lines(
    error: BaseException,
    cell_label: Callable[[str], str | None],
    title: str | None = None,
    elsewhere: Sequence[tuple[str, traceback.FrameSummary]] = (),
) -> list[str]:
    """What a failing cell shows: the test's name, the message, the student's lines.

    cell_label(filename) names a frame of the notebook ("In[7]") and returns None for any other
    frame (the grading helpers, NumPy, the standard library): only the notebook's frames are
    shown, never a path. An AssertionError is a test's verdict: its message is the whole story,
    unless it wraps an error the student's code raised (``grading.run``), whose lines follow it.
    ``elsewhere``: labelled frames of the student's code that ran in another process (the
    grader's answer process), shown after the traceback's own.
    """
    lines = wrap(FAILED + title) if title else []
    origin = error
    if isinstance(error, AssertionError):
        lines += wrap(str(error) or "the test's assertion failed")
        if error.__cause__ is None:
            return lines
        origin = error.__cause__
    frames = [
        (label, frame)
        for frame in traceback.extract_tb(origin.__traceback__)
        if (label := cell_label(frame.filename))
    ]
    frames = (frames + list(elsewhere))[-3:]
    if frames and origin is not error:
        lines.append("Where it happened in your code:")
    for label, frame in frames:
        where = f"{label}, line {frame.lineno}" + (
            f", in {frame.name}" if frame.name != "<module>" else ""
        )
        code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
        lines += [f"  {where}:", f"    {code}"]
    if origin is error:
        lines += wrap(f"{type(error).__name__}: {error}")
        lines += _advice(error, frames)
    return lines


def _advice(error: BaseException, frames) -> list[str]:
    """One sentence for the errors a blank or half-run notebook raises."""
    if isinstance(error, NotImplementedError):
        name = frames[-1][1].name if frames and frames[-1][1].name != "<module>" else "a function"
        return wrap(
            f"{name} is not written yet: write its body where it says # YOUR CODE HERE "
            "(and delete the raise line), then run its cell again."
        )
    if isinstance(error, NameError):
        return wrap(
            "Run the cells above first (Run → Run All Above Selected Cell): the cell that "
            "defines this name has not run in this kernel."
        )
    return []


# ---------------------------------------------------------------------------------------------
# The IPython side.


def _cell_label(shell) -> Callable[[str], str | None]:
    def label(filename: str) -> str | None:
        named = shell.compile.format_code_name(filename)
        return named[1] if named else None

    return label


def _title_of(error: BaseException, label) -> str | None:
    """The failing test's title, read from the cell the traceback starts in."""
    for frame in traceback.extract_tb(error.__traceback__):  # IPython's own frames come first
        if label(frame.filename):
            return test_title("".join(linecache.getlines(frame.filename)))
    return None


def _handler(shell, etype, value, tb, tb_offset=None):
    label = _cell_label(shell)
    if value.__traceback__ is None:
        value = value.with_traceback(tb)
    lines = failure_lines(value, label, _title_of(value, label))
    shell._showtraceback(etype, value, lines)
    return lines


def _after_cell(result) -> None:
    source = getattr(result.info, "raw_cell", "") or ""
    title = test_title(source)
    if title is None:
        defined = _DEF.findall(source)
        if defined:
            _TASK[0] = defined[-1]
        return
    task = _TASK[0] or title.split()[0]
    if HIDDEN in source and result.success:
        _RESULTS[title] = (task, None)
        print("\n".join(wrap(f"· {title}: hidden tests, run when your notebook is graded")))
        return
    _RESULTS[title] = (task, bool(result.success))
    if result.success:
        print("\n".join(wrap(PASSED + title)))


def setup_notebook(shell=None) -> None:
    """Readable failures and a ✓ per passing test in this notebook (a no-op outside IPython)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    shell.set_custom_exc((Exception,), _handler)
    if _after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _after_cell)
    _RESULTS.clear()
    _TASK[0] = ""


def summary_lines(results: dict[str, tuple[str, bool | None]] | None = None) -> list[str]:
    """Per function (the one the tests below its cell check): how many visible tests pass, and
    the ones that do not, in notebook order."""
    results = _RESULTS if results is None else results
    if not results:
        return ["No test has run yet: run the whole notebook (Run → Run All Cells)."]
    groups: dict[str, list[tuple[str, bool | None]]] = {}
    for title, (task, passed) in results.items():
        groups.setdefault(task, []).append((title, passed))
    lines = []
    for name, tests in groups.items():
        visible = [(t, p) for t, p in tests if p is not None]
        good = sum(1 for _, p in visible if p)
        mark = "✓" if good == len(visible) else "✗"
        lines.append(f"{mark} {name}: {good} of {len(visible)} visible tests pass")
        for t, p in visible:
            if not p:
                lines += wrap(f"    ✗ {t}", indent=" " * 6)
    failing = sum(1 for _, p in results.values() if p is False)
    lines.append(
        "All visible tests pass. Hidden tests run when your notebook is graded."
        if not failing
        else f"{failing} visible test(s) fail: scroll up to the first ✗ failed: message."
    )
    return lines


def summary() -> None:
    """Print :func:`summary_lines` (the exercises' last cell)."""
    print("\n".join(summary_lines()))
