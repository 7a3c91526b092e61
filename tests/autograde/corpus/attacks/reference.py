"""Attacks that reach for the answers: the reference by importlib, copied files, the course's
files, the mistake generators; the NumPy-only rule; lookups of the open course's inputs
(issue 10)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import zlib

import nbformat
from nbformat.v4 import new_code_cell

from attacks import (
    SHAPE,
    Ctx,
    attack,
    replace_answer,
    with_answers,
)

# == 4. reaching the reference ==================================================================
# ex03's answers that lstm_ref.np_ref has no function for: they stay blank in these attacks.
NOT_IN_REFERENCE = ("forget", "forget_on_cue", "half_life")


@attack("reaching the reference: importlib", flagged=True)
def atk_importlib_reference(ctx):
    """Answers call lstm_ref.np_ref through importlib with the module name built at run time
    (forget, which the reference lacks, stays blank)."""
    prelude = (
        "import importlib\n\n"
        "_ref = importlib.import_module('.'.join(['lstm' + '_ref', 'np' + '_ref']))"
    )

    def body(n, p):
        if n in NOT_IN_REFERENCE:
            return 'raise NotImplementedError("write the body of this function")'
        return f"return getattr(_ref, {n!r})({', '.join(p)})"

    return ctx.nb(with_answers(ctx, body, prelude))


COPY_PACKAGE = r"""
import importlib.util, os, shutil, sys
# A copy of the reference package under another name: its functions are not the reference's
# functions (another __module__), so a trap set on those misses them.
_spec = importlib.util.find_spec("lstm" + "_ref")
_src = os.path.join(os.path.dirname(_spec.origin), "np" + "_ref")
_dst = os.path.join(os.path.expanduser("~"), ".cache", "mine")
shutil.copytree(_src, _dst, dirs_exist_ok=True)
sys.path.insert(0, os.path.dirname(_dst))
_mine = importlib.import_module("mine")
"""


@attack("reaching the reference: files under the venv / the repo", flagged=True)
def atk_reference_copy(ctx):
    """The reference's source files copied from the installed package into a package of the
    student's own ('mine'), imported from there."""

    def body(n, p):
        if n in NOT_IN_REFERENCE:
            return 'raise NotImplementedError("write the body of this function")'
        return f"return getattr(_mine, {n!r})({', '.join(p)})"

    return ctx.nb(with_answers(ctx, body, COPY_PACKAGE))


SEARCH_FILES = r"""
import json, os, sqlite3, sys
_COURSE = @@COURSE@@
_WANT = "def " + "forget_gate("
_sources = []


def _take(text):
    if _WANT in text and "PROBE-RAN" not in text:
        _sources.append(text)


def _read(path):
    try:
        if os.path.getsize(path) > 5 * 2**20:
            return
        if path.endswith(".ipynb"):
            nb = json.load(open(path))
            for cell in nb.get("cells", []):
                src = "".join(cell.get("source", ""))
                if "BEGIN SOLUTION" in src:
                    _take(src)
        elif path.endswith(".db"):
            for (src,) in sqlite3.connect(path).execute("select source from source_cell"):
                _take(src or "")
        elif path.endswith(".py"):
            _take(open(path).read())
    except Exception:
        pass


for _path in (_COURSE + "/gradebook.db", _COURSE + "/solutions", _COURSE + "/source",
              "/work", "/srv", "/home", "/root", "/opt", "/tmp", *sys.path):
    if os.path.isfile(_path):
        _read(_path)
    for _dir, _dirs, _files in os.walk(_path):
        _dirs[:] = [d for d in _dirs if d not in ("proc", "sys", "dev", ".git", "torch")]
        for _f in _files:
            if _f.endswith((".ipynb", ".db", ".py")):
                _read(os.path.join(_dir, _f))
print("PROBE-RAN", len(_sources), "file(s) with the answers found")
_ns = {"__name__": "found"}
for _src in _sources:
    try:
        exec(_src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), _ns)
    except Exception:
        pass
"""


@attack("reaching the reference: solutions, gradebook, repo", flagged=None)
def atk_search_files(ctx):
    """The course's gradebook (source_cell holds the solutions), solutions/ and source/, and every
    readable .py, .ipynb and .db under /work, /home, /tmp and sys.path searched for the answer;
    whatever defines forget_gate is executed and used."""
    prelude = SEARCH_FILES.replace("@@COURSE@@", repr(str(ctx.course)))

    def body(n, p):
        return (
            f"if {n!r} in _ns:\n    return _ns[{n!r}]({', '.join(p)})\n"
            'raise NotImplementedError("write the body of this function")'
        )

    return ctx.nb(with_answers(ctx, body, prelude))


@attack("reaching the reference: lstm_course.grading's mistake generators", flagged=True)
def atk_mistake_generator(ctx):
    """grading.gate_mistakes asked for the 'wrong sign' mistake σ(-a): the answer is 1 - that,
    for the gate and (with W = 1, one column) for the sigmoid."""
    prelude = "import numpy as np\nfrom lstm_course import grading"
    bodies = {
        "sigmoid": (
            "col = np.asarray(z, dtype=float).reshape(-1, 1)\n"
            "wrong = grading.gate_mistakes(col, np.zeros((len(col), 0)), np.ones((1, 1)), "
            "np.zeros(1))['wrong_sign']\n"
            "return (1 - wrong).reshape(np.shape(z))"
        ),
        "forget_gate": "return 1 - grading.gate_mistakes(h_prev, x_t, W_f, b_f)['wrong_sign']",
        "forget": 'raise NotImplementedError("write the body of this function")',
        "forget_on_cue": 'raise NotImplementedError("write the body of this function")',
        "half_life": 'raise NotImplementedError("write the body of this function")',
    }
    return ctx.nb(with_answers(ctx, lambda n, p: bodies[n], prelude))


# == 6. exercise rules: NumPy only ===============================================================
@attack("exercise rules: torch in a NumPy-only exercise", most="task:forget_gate", flagged=True)
def atk_torch_in_numpy_only(ctx):
    """The solved notebook, but forget_gate is computed with torch (values right)."""
    src = (
        "import torch\n\n\n"
        "def forget_gate(h_prev, x_t, W_f, b_f):\n"
        "    z = torch.cat([torch.from_numpy(h_prev), torch.from_numpy(x_t)], dim=1)\n"
        "    return torch.sigmoid(z @ torch.from_numpy(W_f).T + torch.from_numpy(b_f)).numpy()"
    )
    return ctx.nb(replace_answer(ctx.solved(), "forget_gate", src))


@attack("tensors requiring grad as arrays", most="task:forget", flagged=True)
def atk_tensor_requires_grad(ctx):
    """The solved notebook, but forget returns a torch tensor requiring grad (values right) in
    the NumPy-only exercise."""
    src = (
        "def forget(f_t, c_prev):\n"
        "    import torch\n"
        "    return torch.tensor(f_t * c_prev, requires_grad=True)"
    )
    return ctx.nb(replace_answer(ctx.solved(), "forget", src))


# == 7. lookups: the open course's inputs are known =============================================
def known_answers(ctx: Ctx) -> dict[str, dict[str, list]]:
    """Run the instructor's notebook (hidden tests included: the course is open) here, with
    every answer function recording its inputs and outputs, plus the inputs of today's outside
    check, which are a function of the student id; return {function: {key: [shape, values]}}."""
    import numpy as np

    table: dict[str, dict[str, list]] = {}
    names = [n for n, _p, _g in ctx.functions()]

    def record(name, fn):
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            params = [*args, *kwargs.values()]
            try:
                array = np.asarray(result, dtype=float)
                table.setdefault(name, {})[_key(params)] = [
                    list(array.shape),
                    array.ravel().tolist(),
                ]
            except (TypeError, ValueError):
                pass
            return result

        wrapper.__wrapped_answer__ = True
        return wrapper

    source = nbformat.read(str(ctx.course / "solutions" / ctx.assignment / f"{ctx.notebook}.ipynb"),
                           as_version=4)  # fmt: skip
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for cell in source.cells:
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, "<solution>", "exec"), ns)  # noqa: S102
            except Exception:  # noqa: BLE001 (a test that fails here only records less)
                pass
            for name in names:
                fn = ns.get(name)
                if callable(fn) and not getattr(fn, "__wrapped_answer__", False):
                    ns[name] = record(name, fn)
        try:  # today's outside check draws its inputs from the student id
            from lstm_course.autograde import oracle

            sigs = {n: p for n, p, _g in ctx.functions()}
            for call in oracle.plan(sigs, f"{ctx.student}/{ctx.assignment}/{ctx.notebook}"):
                ns[call.name](**call.args)
        except Exception:  # noqa: BLE001 (no such check any more: nothing to add)
            pass
    return table


def _key(args) -> str:
    import numpy as np

    h = hashlib.sha256()
    for a in args:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


LOOKUP = (
    SHAPE
    + """
import base64, hashlib, json, zlib

_TABLE = json.loads(zlib.decompress(base64.b64decode("@@TABLE@@")))
_SEEN = {}


def _key(args):
    h = hashlib.sha256()
    for a in args:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


def _answer(name, args):
    hit = _TABLE.get(name, {}).get(_key(args))
    if hit is None:
        return None
    return np.array(hit[1], dtype=float).reshape(hit[0])
"""
)


def lookup_prelude(ctx) -> str:
    data = base64.b64encode(zlib.compress(json.dumps(known_answers(ctx)).encode(), 9)).decode()
    return LOOKUP.replace("@@TABLE@@", data)


@attack("predicting the inputs: a lookup table of every known test input", most="zeros")
def atk_lookup_table(ctx):
    """Nothing implemented: a table of the reference's answers for every input the open
    course's tests use (visible and hidden, from the public solutions notebook) and for today's
    outside check (seeded by the student id); zeros for anything else."""

    def body(n, p):
        a = ", ".join(p)
        return (
            f"hit = _answer({n!r}, ({a},))\n"
            f"return hit if hit is not None else np.zeros(_shape({n!r}, ({a},)))"
        )

    return ctx.nb(with_answers(ctx, body, lookup_prelude(ctx)))


@attack("answering differently per call count / detecting salted inputs", most="zeros")
def atk_call_count(ctx):
    """The lookup table, but each input answered right only the first time it is seen (a second
    call, e.g. a determinism or feedback check, gets zeros), and an unknown (salted) input
    raises NotImplementedError, as if the function were still a stub."""

    def body(n, p):
        a = ", ".join(p)
        return (
            f"key = ({n!r}, _key(({a},)))\n_SEEN[key] = _SEEN.get(key, 0) + 1\n"
            f"hit = _answer({n!r}, ({a},))\n"
            "if hit is None:\n    raise NotImplementedError('write the body of this function')\n"
            f"return hit if _SEEN[key] == 1 else np.zeros(_shape({n!r}, ({a},)))"
        )

    return ctx.nb(with_answers(ctx, body, lookup_prelude(ctx)))


# The shapes of the hidden tests' inputs (from the public solutions notebook; seeds may be salted,
# shapes are not): an answer that sees one knows a hidden test is calling it.
HIDDEN_SHAPES = {
    "sigmoid": [[7], [3, 4], [2, 3, 5]],
    "forget_gate": [[3, 2], [1, 3], [4, 7]],
    "forget": [[3, 2], [1, 6], [4, 4]],
    "forget_on_cue": [],  # its arguments are numbers (H, D, cue): no shape tells a hidden call
    "half_life": [[7], [3, 4], [2, 3, 5]],
}
EXFILTRATE = (
    SHAPE
    + """
import time

_HIDDEN = @@HIDDEN@@
_last = [time.perf_counter()]


_SEEN = []


def _report(name, args):
    gap = time.perf_counter() - _last[0]
    _last[0] = time.perf_counter()
    if list(np.shape(args[0])) in _HIDDEN[name]:
        shown = [np.asarray(a).round(6).tolist() for a in args]
        line = " ".join(["SEEN-" + "HIDDEN-INPUT", name, f"after {gap:.3f} s:", json.dumps(shown)])
        print(line[:400])
        _SEEN.append(line[:400])
"""
)


@attack(
    "timing the verifier's requests; hidden inputs shown in feedback", most="zeros", feedback=True
)
def atk_exfiltrate_inputs(ctx):
    """Answers tell the hidden tests' calls by their inputs' shapes (public: seeds may be salted,
    shapes are not) and print those inputs, with the time since the previous request, while
    the test runs and again from a cell of the student's own after the tests, so that they
    reach the student's feedback; they return zeros."""

    def body(n, p):
        a = ", ".join(p)
        return f"_report({n!r}, ({a},))\nreturn np.zeros(_shape({n!r}, ({a},)))"

    prelude = "import json\n" + EXFILTRATE.replace("@@HIDDEN@@", repr(HIDDEN_SHAPES))
    nb = with_answers(ctx, body, prelude)
    # and a cell of the student's own at the end, after every test: what the answers saw
    nb.cells.append(
        new_code_cell("print(len(_SEEN), 'hidden inputs seen')\nprint(*_SEEN, sep='\\n')")
    )
    return ctx.nb(nb)
