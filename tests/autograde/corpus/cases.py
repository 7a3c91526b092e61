"""The corpus of bad and dishonest submissions that ``make test`` grades end to end.

Every case is built from an assignment's own release and solution notebooks, so the corpus runs
against any assignment of the course (the tests use ex03_forget_gate, in a temporary copy of the
course). Each case is one student folder, ``submitted/corpus-<name>/<assignment>/``, and says
what the grader must do with it:

    score     "full" (every point), "zero", "baseline" (exactly the points of the honest but
              wrong submission ``corpus-wrong``), "at_most_baseline", or "partial"
    failure   a phrase the run's summary must give as the reason it failed, or None
    flagged   whether it must be flagged for the instructor's review
    note      a phrase the grader's notes (feedback and summary) must contain, or None

The honest wrong submission (``wrong``) is the solved notebook with its first function wrapped
so that it returns wrong values of the right shape; the attacks start from it and try to raise
its score.

To try the corpus on a course by hand:

    python tests/autograde/corpus/cases.py --course-dir . --assignment ex03_forget_gate
    python -m lstm_course.autograde --student corpus-solved ...   (or make autograde)
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

TIMESTAMP = "2026-01-01 12:00:00.000000 UTC"


@dataclass
class Context:
    course: Path
    assignment: str
    notebook: str
    release: nbformat.NotebookNode
    answers: dict[str, str]  # solution grade_id -> the instructor's answer, markers removed
    port: int = 9  # a port the test listens on, on the host's loopback

    def solved(self) -> nbformat.NotebookNode:
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            gid = _gid(cell)
            if gid in self.answers:
                cell.source = self.answers[gid]
        return nb

    def first_function(self) -> str:
        for cell in self.release.cells:
            if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
                for node in ast.parse(cell.source).body:
                    if isinstance(node, ast.FunctionDef):
                        return node.name
        raise LookupError("no solution function in the release")

    def wrong(self) -> nbformat.NotebookNode:
        """The solved notebook whose first answer returns wrong values of the right shape."""
        nb = self.solved()
        name = self.first_function()
        wrapper = (
            "import numpy as np\n"
            f"_original_{name} = {name}\n\n\n"
            f"def {name}(*args, **kwargs):\n"
            f"    return np.asarray(_original_{name}(*args, **kwargs)) * 1.5 + 0.25"
        )
        return append_to_first_answer(nb, wrapper)

    def tests(self, nb) -> list[nbformat.NotebookNode]:
        return [
            c
            for c in nb.cells
            if _gid(c)
            and c.metadata["nbgrader"].get("grade")
            and not c.metadata["nbgrader"].get("solution")
        ]


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _strip_markers(source: str) -> str:
    keep = [
        line
        for line in source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    ]
    return "\n".join(keep)


def context(course: Path, assignment: str, port: int = 9) -> Context:
    release_dir = course / "exercises" / assignment
    (path,) = sorted(release_dir.glob("*.ipynb"))
    release = nbformat.read(str(path), as_version=4)
    source = nbformat.read(str(course / "solutions" / assignment / path.name), as_version=4)
    answers = {
        _gid(c): _strip_markers(c.source)
        for c in source.cells
        if _gid(c) and c.metadata["nbgrader"].get("solution")
    }
    return Context(course, assignment, path.stem, release, answers, port)


def insert_after_first_answer(nb, source: str) -> nbformat.NotebookNode:
    for i, cell in enumerate(nb.cells):
        if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
            nb.cells.insert(i + 1, new_code_cell(source))
            return nb
    raise LookupError("no solution cell")


def insert_before_first_test(nb, source: str) -> nbformat.NotebookNode:
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            nb.cells.insert(i, new_code_cell(source))
            return nb
    raise LookupError("no graded test cell")


def append_to_first_answer(nb, source: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
            cell.source += "\n\n" + source
            return nb
    raise LookupError("no solution cell")


def dumps(nb) -> bytes:
    return json.dumps(nb, indent=1, ensure_ascii=False).encode("utf-8")


# -- the cases ----------------------------------------------------------------------------
CASES: dict[str, dict] = {}


def case(score, failure=None, flagged=False, note=None):
    def register(fn):
        CASES[fn.__name__.removeprefix("case_")] = {
            "build": fn,
            "doc": (fn.__doc__ or "").strip(),
            "score": score,
            "failure": failure,
            "flagged": flagged,
            "note": note,
        }
        return fn

    return register


@case("full")
def case_solved(ctx):
    """A correct submission: every point."""
    return {f"{ctx.notebook}.ipynb": dumps(ctx.solved())}


@case("zero")
def case_blank(ctx):
    """The release handed back unchanged: zero, every test fails on NotImplementedError."""
    return {f"{ctx.notebook}.ipynb": dumps(ctx.release)}


@case("partial")
def case_wrong(ctx):
    """Honest but wrong: the first function's values are off (the attacks' baseline)."""
    return {f"{ctx.notebook}.ipynb": dumps(ctx.wrong())}


@case("full")
def case_infinite_loop(ctx):
    """A cell that loops forever: it is interrupted at the time limit and the rest still runs."""
    nb = insert_after_first_answer(ctx.solved(), "while True:\n    pass")
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("zero", failure="did not stop when interrupted")
def case_loop_ignoring_interrupts(ctx):
    """A loop that ignores SIGINT, SIGALRM and every exception: the sandbox is killed."""
    src = (
        "import signal\n"
        "for s in (signal.SIGINT, signal.SIGALRM, signal.SIGTERM):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n"
        "    try:\n"
        "        while True:\n"
        "            pass\n"
        "    except BaseException:\n"
        "        pass"
    )
    nb = insert_after_first_answer(ctx.solved(), src)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full")
def case_memory_bomb(ctx):
    """Allocating without end: MemoryError at the memory limit, the rest still runs."""
    nb = insert_after_first_answer(ctx.solved(), "hog = None  # frees the memory")
    nb = insert_after_first_answer(
        nb, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))"
    )
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full")
def case_fork_bomb(ctx):
    """os.fork() without end: the process limit stops it and the notebook goes on."""
    src = (
        "import os\n"
        "children = []\n"
        "try:\n"
        "    while True:\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            import time\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "except OSError as exc:\n"
        "    print('fork stopped after', len(children), 'children:', exc)"
    )
    nb = insert_after_first_answer(ctx.solved(), src)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("zero", failure="kernel died")
def case_kernel_crash(ctx):
    """os._exit in the first answer: the kernel dies; what ran before counts (nothing here)."""
    nb = append_to_first_answer(ctx.solved(), "import os\nos._exit(3)")
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("partial")
def case_syntax_error(ctx):
    """A syntax error in the last answer: that function's tests fail, the others pass."""
    nb = ctx.solved()
    last = [c for c in nb.cells if _gid(c) and c.metadata["nbgrader"].get("solution")][-1]
    last.source += "\n    return )("
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full")
def case_slow_but_honest(ctx):
    """Three cells of 2 s each, with a time limit of 3 s per cell (the corpus's --timeout): each
    cell and each test has its own limit, so every test keeps its points."""
    nb = ctx.solved()
    for _ in range(3):
        nb = insert_after_first_answer(nb, "import time\ntime.sleep(2)")
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("zero")
def case_displayhook_in_stubs(ctx):
    """The blank release with get_ipython().displayhook("ok") before every stub's raise: an
    execute_result before the error, which nbgrader would read as full marks."""
    nb = copy.deepcopy(ctx.release)
    for cell in nb.cells:
        if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
            cell.source = cell.source.replace(
                "raise NotImplementedError",
                'get_ipython().displayhook("ok")\n    raise NotImplementedError',
            )
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full", note="missing from the submission")
def case_deleted_tests(ctx):
    """Every graded test cell deleted: they are put back and run."""
    nb = ctx.solved()
    nb.cells = [c for c in nb.cells if c not in ctx.tests(nb)]
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("baseline", note="were restored")
def case_edited_tests(ctx):
    """Every graded test cell emptied (pass) in the wrong submission: the tests come back."""
    nb = ctx.wrong()
    for cell in ctx.tests(nb):
        cell.source = "pass"
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full")
def case_reordered_tests(ctx):
    """Every graded test cell moved to the top: graded in the release's order."""
    nb = ctx.solved()
    tests = ctx.tests(nb)
    nb.cells = tests + [c for c in nb.cells if c not in tests]
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full", note="duplicated")
def case_duplicated_cells(ctx):
    """Every test cell and every answer duplicated: each test is graded once."""
    nb = ctx.solved()
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if _gid(cell):
            twin = copy.deepcopy(cell)
            twin["id"] = (cell.get("id") or "x") + "-copy"
            cells.append(twin)
    nb.cells = cells
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("baseline")
def case_edited_metadata(ctx):
    """Metadata edited in the wrong submission: points raised, tests ungraded or unlocked."""
    nb = ctx.wrong()
    for i, cell in enumerate(ctx.tests(nb)):
        meta = cell.metadata["nbgrader"]
        if i % 3 == 0:
            meta["points"] = 100
        elif i % 3 == 1:
            meta["grade"] = False
        else:
            meta["solution"] = True
            meta["locked"] = False
            cell.source = "pass"
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full", note="edited")
def case_stripped_answer_metadata(ctx):
    """The nbgrader metadata removed from every answer: matched back by cell id."""
    nb = ctx.solved()
    for cell in nb.cells:
        if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
            del cell.metadata["nbgrader"]
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("zero", failure="not valid JSON")
def case_invalid_json(ctx):
    """A notebook file cut in half."""
    data = dumps(ctx.solved())
    return {f"{ctx.notebook}.ipynb": data[: len(data) // 2]}


@case("zero", failure="empty")
def case_empty_file(ctx):
    """A notebook file of zero bytes."""
    return {f"{ctx.notebook}.ipynb": b""}


@case("zero", failure="was not submitted")
def case_missing_notebook(ctx):
    """No notebook at all, only a note."""
    return {"README.txt": b"I could not finish, sorry.\n"}


@case("full", note="instead of")
def case_misnamed_notebook(ctx):
    """The right notebook under the wrong name (a browser's download copy)."""
    return {f"{ctx.notebook} (1).ipynb": dumps(ctx.solved())}


@case("full", note="instead of")
def case_nested_notebook(ctx):
    """The notebook saved one folder too deep."""
    return {f"{ctx.assignment}/{ctx.notebook}.ipynb": dumps(ctx.solved())}


@case("full", note="not copied")
def case_extra_files(ctx):
    """Extra files: a helper module the notebook imports, a big file, a link to the gradebook."""
    nb = insert_after_first_answer(ctx.solved(), "from helper import GREETING\nprint(GREETING)")
    return {
        f"{ctx.notebook}.ipynb": dumps(nb),
        "helper.py": b"GREETING = 'hello from a helper module'\n",
        "big.bin": b"\0" * (21 * 2**20),
        "notes/more.txt": b"notes\n",
        "@link:gradebook_link.db": str(ctx.course / "gradebook.db").encode(),
    }


@case("full")
def case_huge_output(ctx):
    """One 30 MB line of output: cut down in the graded notebook."""
    nb = insert_after_first_answer(ctx.solved(), "print('x' * (30 * 2**20))")
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full")
def case_stderr_output(ctx):
    """Output on stderr from an answer's cell (not a test): no points lost."""
    src = "import sys, warnings\nprint('debug output', file=sys.stderr)\nwarnings.warn('a warning')"
    nb = insert_after_first_answer(ctx.solved(), src)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("full", note="not valid UTF-8")
def case_non_utf8(ctx):
    """Bytes that are not UTF-8 inside a markdown cell: replaced, then graded."""
    nb = ctx.solved()
    md = next(c for c in nb.cells if c.cell_type == "markdown")
    md.source += " MARKER"
    data = dumps(nb).replace(b" MARKER", b" \xff\xfe latin-1: caf\xe9")
    return {f"{ctx.notebook}.ipynb": data}


@case("full", note="no kernel information")
def case_no_kernel_info(ctx):
    """No kernelspec and no language_info in the notebook's metadata."""
    nb = ctx.solved()
    nb.metadata = {}
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


# -- attacks: each starts from the wrong submission and must not beat it --------------------
NUMPY_PATCH = """import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.abs = lambda x: np.zeros_like(np.asarray(x, dtype=float))
np.max = lambda *a, **k: 0.0"""

LSTM_REF_PATCH = """import lstm_ref
from lstm_course import grading
from lstm_ref import np_ref
grading.compare = lambda *a, **k: None
grading.assert_no_warnings = lambda *a, **k: None
for _name in dir(np_ref):
    if _name in globals() and callable(globals()[_name]):
        setattr(np_ref, _name, globals()[_name])"""

IMPORT_HIJACK = """import builtins, types
_real_import = builtins.__import__
class _Yes(types.ModuleType):
    def __getattr__(self, name):
        return lambda *a, **k: (a[1] if name == 'run' and len(a) > 1 else None)
def _fake_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name.startswith('lstm_ref'):
        return _Yes(name)
    return _real_import(name, globals, locals, fromlist, level)
builtins.__import__ = _fake_import"""

REBIND_NAMES = """class _FakeNumpy:
    def __getattr__(self, name):
        import numpy
        if name in ('allclose', 'array_equal'):
            return lambda *a, **k: True
        return getattr(numpy, name)
np = _FakeNumpy()"""

SYS_MODULES = """import sys, types
fake = types.ModuleType('lstm_course.grading')
fake.compare = lambda *a, **k: None
fake.run = lambda fn, *a, **k: fn(*a, **k)
fake.run_with_warnings = lambda fn, *a, **k: (fn(*a, **k), [])
fake.assert_no_warnings = lambda *a, **k: None
fake.random_arrays = sys.modules['lstm_course.grading'].random_arrays
fake.gate_mistakes = lambda *a, **k: {}
sys.modules['lstm_course.grading'] = fake
import lstm_ref
lstm_course.grading = fake"""

CODE_SWAP = """import lstm_course.grading
def _ok(*a, **k):
    return None
lstm_course.grading.compare.__code__ = _ok.__code__
lstm_course.grading.assert_no_warnings.__code__ = _ok.__code__"""

PATCH_DURING_TEST = """_inner_{name} = {name}
def {name}(*args, **kwargs):
    import numpy, lstm_course.grading
    numpy.allclose = lambda *a, **k: True
    lstm_course.grading.compare = lambda *a, **k: None
    return _inner_{name}(*args, **kwargs)"""


@case("baseline", flagged=True)
def case_attack_numpy(ctx):
    """np.allclose = lambda *a, **k: True, and friends, in a cell of its own."""
    return {f"{ctx.notebook}.ipynb": dumps(insert_before_first_test(ctx.wrong(), NUMPY_PATCH))}


@case("at_most_baseline", flagged=True)
def case_attack_numpy_in_answer(ctx):
    """The same NumPy patch written inside the answer cell itself (it breaks the student's own
    NumPy, in the student's own process: at most the baseline)."""
    nb = append_to_first_answer(ctx.wrong(), NUMPY_PATCH)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("baseline", flagged=True)
def case_attack_lstm_ref(ctx):
    """The grading helpers made no-ops and the reference replaced by the student's functions."""
    nb = ctx.wrong()
    nb.cells.insert(len(nb.cells) - 1, new_code_cell(LSTM_REF_PATCH))
    nb = insert_after_first_answer(nb, LSTM_REF_PATCH)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("baseline", flagged=True)
def case_attack_import_hijack(ctx):
    """builtins.__import__ replaced so that the tests import fake grading helpers."""
    return {f"{ctx.notebook}.ipynb": dumps(insert_before_first_test(ctx.wrong(), IMPORT_HIJACK))}


@case("baseline", flagged=True)
def case_attack_rebind_np(ctx):
    """The notebook's name np rebound to a fake NumPy whose allclose is always True."""
    return {f"{ctx.notebook}.ipynb": dumps(insert_before_first_test(ctx.wrong(), REBIND_NAMES))}


@case("baseline", flagged=True)
def case_attack_sys_modules(ctx):
    """sys.modules['lstm_course.grading'] replaced by a module of no-ops."""
    return {f"{ctx.notebook}.ipynb": dumps(insert_before_first_test(ctx.wrong(), SYS_MODULES))}


@case("baseline", flagged=True)
def case_attack_code_swap(ctx):
    """The __code__ of the grading helpers swapped for a function that returns None."""
    return {f"{ctx.notebook}.ipynb": dumps(insert_before_first_test(ctx.wrong(), CODE_SWAP))}


@case("at_most_baseline", flagged=True)
def case_attack_patch_during_test(ctx):
    """The answer itself patches NumPy and the grading helpers each time a test calls it."""
    src = PATCH_DURING_TEST.format(name=ctx.first_function())
    return {f"{ctx.notebook}.ipynb": dumps(insert_after_first_answer(ctx.wrong(), src))}


RUNNER_ATTACK = """import gc, types
def _skip(*args, **kwargs):
    return None
for _obj in gc.get_objects():
    if isinstance(_obj, types.FunctionType) and _obj.__name__ == "_run_test":
        _obj.__code__ = _skip.__code__  # every graded test now does nothing, so it 'passes'"""


@case("at_most_baseline", flagged=True)
def case_attack_runner(ctx):
    """The grader's own test runner found with gc and made a no-op: caught outside the kernel."""
    nb = insert_before_first_test(ctx.wrong(), RUNNER_ATTACK)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


CHANNEL_FORGERY = """import json, os
for _fd in range(3, 64):
    try:
        for _index in range(300):
            _msg = {"event": "cell", "index": _index, "outputs": [], "execution_count": 1}
            os.write(_fd, (json.dumps(_msg) + "\\n").encode())
    except OSError:
        pass"""

NONCE_FORGERY = """import gc, os
_reporter = next(o for o in gc.get_objects() if type(o).__name__ == "_Reporter")
for _index in range(300):
    _reporter.send({"event": "cell", "index": _index, "outputs": [], "execution_count": 1})
_reporter.send({"event": "done"})
os._exit(0)"""


@case("at_most_baseline", failure="stopped answering", flagged=True)
def case_attack_result_channel(ctx):
    """Forged 'this cell passed' reports written to every file descriptor: the grades are on a
    channel only the verifier holds; what reaches the student's own answer channel breaks it,
    and the tests after it are lost."""
    nb = insert_before_first_test(ctx.wrong(), CHANNEL_FORGERY)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("at_most_baseline", flagged=True)
def case_attack_result_channel_nonce(ctx):
    """The runner's reporter found on the stack: every test reported passed, then exit."""
    nb = insert_before_first_test(ctx.wrong(), NONCE_FORGERY)
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


@case("partial", flagged=True)
def case_calls_reference(ctx):
    """Every answer replaced by a call to lstm_ref's reference of the same name (if any): the
    reference is not in the student's sandbox, so those answers fail (the others keep their
    points) and the imports are flagged."""
    nb = ctx.solved()
    import lstm_ref.np_ref as np_ref

    for cell in nb.cells:
        if _gid(cell) and cell.metadata["nbgrader"].get("solution"):
            names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            if names and hasattr(np_ref, names[0]):
                cell.source = f"from lstm_ref.np_ref import {names[0]}"
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


# What the sandbox's environment may hold (the grader sets these; PWD comes from bwrap's chdir).
ALLOWED_ENV = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "MPLBACKEND",
    "MPLCONFIGDIR",
    "IPYTHONDIR",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NBGRADER_EXECUTION",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONIOENCODING",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
}

PROBE = r"""import json, os, resource, socket, subprocess, sys
import lstm_ref
COURSE = {course!r}
ALLOWED_ENV = {allowed_env!r}
results = {{}}


def probe(name, fn):
    try:
        detail = fn()
        results[name] = "ALLOWED " + repr(detail)[:80]
    except BaseException as exc:
        results[name] = "BLOCKED " + type(exc).__name__


def refuse(condition, what):
    if condition:
        raise PermissionError(what)
    return what


def fill_disk():
    written = 0
    try:
        for i in range(40):
            with open("fill%d.bin" % i, "wb") as fh:
                fh.write(b"0" * (50 * 2**20))
            written += 50
    finally:
        for i in range(40):
            if os.path.exists("fill%d.bin" % i):
                os.remove("fill%d.bin" % i)
    return "%d MB" % written


def spawn_many():
    procs = []
    try:
        for _ in range(200):
            procs.append(subprocess.Popen(["sleep", "30"]))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return len(procs)


probe("read_gradebook", lambda: open(COURSE + "/gradebook.db", "rb").read(16))
probe("list_solutions", lambda: os.listdir(COURSE + "/solutions"))
probe("read_solution", lambda: open(COURSE + "/solutions/{assignment}/{notebook}.ipynb").read(9))
probe("read_other_student", lambda: os.listdir(COURSE + "/submitted/corpus-solved/{assignment}"))
probe("list_course", lambda: os.listdir(COURSE))
probe("write_course", lambda: open(COURSE + "/pwned.txt", "w").write("x"))
probe("write_venv", lambda: open(sys.prefix + "/pwned.txt", "w").write("x"))
probe("write_package", lambda: open(os.path.dirname(lstm_ref.__file__) + "/pwned.py", "w").write("x"))
probe("write_usr", lambda: open("/usr/pwned.txt", "w").write("x"))
probe("see_other_scratch", lambda: refuse(not [f for f in os.listdir("/tmp") if "autograde" in f], "none"))
probe("read_shadow", lambda: open("/etc/shadow").read(5))
probe("network_internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
probe("network_dns", lambda: socket.getaddrinfo("example.com", 80))
probe("network_host_loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
probe("is_root", lambda: refuse(os.getuid() != 0, "uid"))
probe("see_host_processes", lambda: refuse(len([p for p in os.listdir("/proc") if p.isdigit()]) < 10, "few"))
probe("allocate_8GB", lambda: len(bytearray(8 * 2**30)))
probe("write_100MB_file", lambda: open("big.bin", "wb").write(b"0" * (100 * 2**20)))
probe("spawn_200_processes", spawn_many)
probe("fill_disk_2GB", fill_disk)
probe("cpu_unlimited", lambda: refuse(resource.getrlimit(resource.RLIMIT_CPU)[1] != resource.RLIM_INFINITY, "limited"))
probe("environment_leak", lambda: refuse(not (set(os.environ) - ALLOWED_ENV), "clean"))
probe("scratch_writable", lambda: open("ok.txt", "w").write("ok"))
print("PROBE " + json.dumps(results))"""


@case("full")
def case_sandbox_probe(ctx):
    """A correct notebook with one more cell that tries every forbidden action and reports."""
    src = PROBE.format(
        course=str(ctx.course),
        assignment=ctx.assignment,
        notebook=ctx.notebook,
        port=ctx.port,
        allowed_env=ALLOWED_ENV,
    )
    nb = ctx.solved()
    nb.cells.append(new_code_cell(src))
    return {f"{ctx.notebook}.ipynb": dumps(nb)}


def build(course: Path, assignment: str, port: int = 9, only: list[str] | None = None) -> list[str]:
    """Write every case into submitted/corpus-<name>/<assignment>/; return the student ids."""
    ctx = context(course, assignment, port)
    students = []
    for name, spec in CASES.items():
        if only and name not in only:
            continue
        student = f"corpus-{name.replace('_', '-')}"
        folder = course / "submitted" / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(TIMESTAMP)
        for rel, data in spec["build"](ctx).items():
            if rel.startswith("@link:"):
                (folder / rel.removeprefix("@link:")).symlink_to(data.decode())
                continue
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        students.append(student)
    return students


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the corpus into a course's submitted/.")
    parser.add_argument("--course-dir", default=".")
    parser.add_argument("--assignment", default="ex03_forget_gate")
    args = parser.parse_args(argv)
    students = build(Path(args.course_dir).resolve(), args.assignment)
    print(f"wrote {len(students)} submissions under submitted/corpus-*/{args.assignment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
